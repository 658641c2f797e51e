/**
 * The pattern index is only as good as its notification feed. Keys made by RENAME, COPY,
 * RESTORE and MOVE notify in the generic class (`g`), non-string values in their own (`l`, `s`,
 * `h`, `z`, `t`), and the application's SWAPDB notifies nothing: a feed missing any of them (at
 * start, or changed by an operator at run time) must not be trusted, so the pattern delete
 * walks and still finds those keys. DB 1 (stats) of the stack; own key prefix; the DB swapped in
 * is DB 9, swapped back after.
 */
import type Redis from 'ioredis';
import { loadConfig } from '../../../src/config/config';
import { createRedisClients, type RedisClients } from '../../../src/redis/clients';
import { startPatternDeletes, type PatternDeletes } from '../../../src/keys/pattern-deletes';
import type { TrustState } from '../../../src/keys/pattern-index';
import { compileRule } from '../../../src/rules/compile';
import { fromRules } from '../../../src/rules/registry';
import { silentLogger } from '../../../src/telemetry/logger';
import { redisDb, uniq, waitFor } from '../../support/stack';

/** Every class a key can be made or changed in, and `x`, `e` (see docs/pattern-deletes.md). */
const FULL = 'KA';
const SWAP_DB = 9;

describe('pattern index: a partial notification feed is never trusted', () => {
  const config = loadConfig();
  let clients: RedisClients;
  let db1: Redis;
  let db9: Redis;
  let ns: string;
  let deletes: PatternDeletes | undefined;
  let states: [TrustState, string][];

  beforeAll(async () => {
    clients = createRedisClients(config.redis, silentLogger());
    await clients.ready();
    db1 = redisDb(config.redis.db.stats);
    db9 = redisDb(SWAP_DB);
  });
  beforeEach(() => {
    ns = `t-pfeed-${uniq()}`;
    states = [];
  });
  afterEach(async () => {
    await deletes?.close();
    deletes = undefined;
    await db1.config('SET', 'notify-keyspace-events', FULL);
    for (const c of [db1, db9]) {
      const keys = await c.keys(`${ns}*`); // test cleanup only; the service never uses KEYS
      if (keys.length) await c.del(...keys);
    }
  });
  afterAll(async () => {
    await clients.close();
    await db1.quit();
    await db9.quit();
  });

  const brandKey = (stat: string, id: number) => `${ns}:stats:${stat}:brand:${id}`;
  const lastState = () => states[states.length - 1];

  /** Starts the index and waits until it is trusted, or says it cannot be. */
  async function start(): Promise<PatternDeletes> {
    const rule = compileRule(
      {
        table: 't',
        targets: [
          { key: `${ns}:stats:*:brand:{brand_id}`, family: 'stats', action: 'pattern-delete' },
        ],
      },
      'pattern-index-feed.test',
    );
    deletes = await startPatternDeletes({
      config: { ...config.redis, patternIndex: 'require', patternFenceTimeoutMs: 1000 },
      rules: fromRules([rule]),
      clients,
      logger: silentLogger(),
      onState: (_db, state, reason) => void states.push([state, reason]),
    });
    await waitFor(
      () =>
        lastState()?.[0] === 'trusted' ||
        (deletes?.indexes.size ?? 0) === 0 ||
        /notify-keyspace-events/.test(lastState()?.[1] ?? ''),
      30_000,
      'the index trusted, or untrusted for its feed',
    );
    return deletes;
  }
  const del = (d: PatternDeletes, id: number) =>
    d.deleteMatching(clients.ports.stats, [[`${ns}:stats:*:brand:${id}`, 'stats']]);

  /** Keys of brand `id` made every way that does not notify in the string class. */
  async function makeKeys(id: number): Promise<string[]> {
    const made: string[] = [];
    const key = (stat: string) => {
      const k = brandKey(stat, id);
      made.push(k);
      return k;
    };
    await db1.hset(key('hash'), 'f', '1');
    await db1.rpush(key('list'), 'a');
    await db1.sadd(key('set'), 'a');
    await db1.zadd(key('zset'), 1, 'a');
    await db1.xadd(key('stream'), '*', 'f', '1');
    await db1.set(`${ns}:tmp:a`, 'v');
    await db1.rename(`${ns}:tmp:a`, key('renamed'));
    await db1.set(`${ns}:tmp:b`, 'v');
    await db1.copy(`${ns}:tmp:b`, key('copied'));
    const dump = await db1.dumpBuffer(`${ns}:tmp:b`);
    if (dump) await db1.restore(key('restored'), 0, dump);
    await db9.set(`${ns}:tmp:c`, 'v');
    await db9.move(`${ns}:tmp:c`, config.redis.db.stats);
    await db1.rename(`${ns}:tmp:c`, key('moved'));
    return made;
  }

  it('with only K$ (what the start-up check accepted), keys of every other kind are still deleted', async () => {
    await db1.config('SET', 'notify-keyspace-events', 'K$');
    const d = await start();
    const made = await makeKeys(1);
    expect(await db1.exists(...made)).toBe(made.length);
    await del(d, 1);
    expect(await db1.exists(...made)).toBe(0);
  });

  it('notification classes removed by CONFIG SET at run time: the index stops answering', async () => {
    await db1.config('SET', 'notify-keyspace-events', FULL);
    const d = await start();
    expect(lastState()?.[0]).toBe('trusted');
    // an operator trims the feed; fences still come back (`$` is on)
    await db1.config('SET', 'notify-keyspace-events', 'K$');
    const made = await makeKeys(2);
    await del(d, 2);
    expect(await db1.exists(...made)).toBe(0);
    // and once the feed is whole again, the index is rebuilt and trusted
    await db1.config('SET', 'notify-keyspace-events', FULL);
    await waitFor(() => lastState()?.[0] === 'trusted', 60_000, 'trusted again');
  }, 90_000);

  it("the application's SWAPDB brings keys no notification told of: they are deleted too", async () => {
    await db1.config('SET', 'notify-keyspace-events', FULL);
    const d = await start();
    expect(lastState()?.[0]).toBe('trusted');
    const swappedIn = brandKey('swapped', 3);
    await db9.set(swappedIn, 'v', 'EX', 600);
    await db1.swapdb(config.redis.db.stats, SWAP_DB);
    try {
      expect(await db1.exists(swappedIn)).toBe(1);
      await del(d, 3);
      expect(await db1.exists(swappedIn)).toBe(0);
    } finally {
      await db1.swapdb(config.redis.db.stats, SWAP_DB);
    }
  }, 60_000);
});
