/**
 * The pattern index on the real Redis: pattern deletes answered from keyspace notifications,
 * the walk while the index cannot be trusted, and keys written while notifications were lost.
 */
import type Redis from 'ioredis';
import { loadConfig } from '../../../src/config/config';
import { createRedisClients, type RedisClients } from '../../../src/redis/clients';
import { startPatternDeletes, type PatternDeletes } from '../../../src/keys/pattern-deletes';
import { missingNotifyFlags, readNotifyFlags } from '../../../src/redis/keyspace';
import type { RedisPort } from '../../../src/redis/port';
import type { TrustState } from '../../../src/keys/pattern-index';
import { compileRule } from '../../../src/rules/compile';
import { fromRules } from '../../../src/rules/registry';
import { escapeGlob } from '../../../src/rules/template';
import { createLogger, silentLogger } from '../../../src/telemetry/logger';
import { redisDb, uniq, waitFor } from '../../support/stack';

describe('pattern index on Redis', () => {
  const config = loadConfig();
  let clients: RedisClients;
  let db1: Redis;
  let ns: string;
  let deletes: PatternDeletes | undefined;
  let states: TrustState[];
  let onState: (state: TrustState) => void;

  beforeAll(async () => {
    clients = createRedisClients(config.redis, silentLogger());
    await clients.ready();
    db1 = redisDb(config.redis.db.stats);
    // The stack's redis.conf sets it; made sure here so the test does not depend on its age.
    await db1.config('SET', 'notify-keyspace-events', 'KA');
  });
  beforeEach(() => {
    ns = `t-pidx-${uniq()}`;
    states = [];
    onState = () => undefined;
  });
  afterEach(async () => {
    await deletes?.close();
    deletes = undefined;
    await db1.config('SET', 'notify-keyspace-events', 'KA');
    const keys = await db1.keys(`${ns}*`); // test cleanup only; the service never uses KEYS
    if (keys.length) await db1.del(...keys);
  });
  afterAll(async () => {
    await clients.close();
    await db1.quit();
  });

  const brand = (id: string) => `${ns}:stats:*:brand:${escapeGlob(id)}`;

  async function start(logger = silentLogger()): Promise<PatternDeletes> {
    const rule = compileRule(
      {
        table: 't',
        targets: [
          { key: `${ns}:stats:*:brand:{brand_id}`, family: 'stats', action: 'pattern-delete' },
        ],
      },
      'pattern-index.test',
    );
    deletes = await startPatternDeletes({
      config: { ...config.redis, patternIndex: 'require', patternFenceTimeoutMs: 1000 },
      rules: fromRules([rule]),
      clients,
      logger,
      onState: (_db, state) => {
        states.push(state);
        onState(state);
      },
    });
    if (deletes.indexes.size > 0 && missingNotifyFlags(await readNotifyFlags(db1)) === undefined)
      await waitTrusted();
    return deletes;
  }

  const index = () => [...(deletes?.indexes.values() ?? [])][0];
  const waitTrusted = () => waitFor(() => index()?.state === 'trusted', 30_000, 'index trusted');
  const del = (d: PatternDeletes, id: string) =>
    d.deleteMatching(clients.ports.stats, [[brand(id), 'stats']]);

  it('a key written again while its UNLINK was in flight stays indexed (found by the next delete)', async () => {
    const d = await start();
    const key = `${ns}:stats:sales:brand:7`;
    await db1.set(key, 'old', 'EX', 600);
    // The port replies to the UNLINK only after a reader wrote the key again and the index saw
    // that write (the oracle's race: a cache-aside fill between the delete and its reply).
    const port = clients.ports.stats as { unlink: RedisPort['unlink'] };
    const unlink = port.unlink;
    port.unlink = async (keys) => {
      const n = await unlink(keys);
      await db1.set(key, 'refilled', 'EX', 600);
      await new Promise((r) => setTimeout(r, 100)); // the 'set' notification arrives
      return n;
    };
    try {
      expect(await del(d, '7')).toBe(1);
    } finally {
      port.unlink = unlink;
    }
    expect(await db1.get(key)).toBe('refilled');
    // The next delete of that brand must find the refilled key in the index.
    expect(await del(d, '7')).toBe(1);
    expect(await db1.exists(key)).toBe(0);
    expect(d.stats.walked).toBe(0);
  });

  it('deletes from the index: no walk, exactly the brand (1 never touches 10)', async () => {
    const d = await start();
    const doomed = [`${ns}:stats:a:brand:1`, `${ns}:stats:b:brand:1`];
    const kept = [`${ns}:stats:a:brand:10`, `${ns}:stats:a:brand:1:x`, `${ns}:other:brand:1`];
    for (const k of [...doomed, ...kept]) await db1.set(k, 'v', 'EX', 600);
    const steps = d.budget.steps;
    expect(await del(d, '1')).toBe(2);
    expect(d.stats).toEqual({ indexed: 1, walked: 0 });
    expect(d.budget.steps).toBe(steps); // not a single SCAN step
    expect(await db1.exists(...doomed)).toBe(0);
    expect(await db1.exists(...kept)).toBe(kept.length);
  });

  it('walks after the subscription is lost, then rebuilds and uses the index again', async () => {
    const d = await start();
    const key = `${ns}:stats:a:brand:7`;
    await db1.set(key, 'v', 'EX', 600);
    let walked: Promise<number> | undefined;
    onState = (state) => {
      // the moment the gap is seen, before any rebuild: this delete must walk
      if (state === 'untrusted' && !walked) walked = del(d, '7');
    };
    await killSubscriber();
    await waitFor(() => walked !== undefined, 10_000, 'the subscriber loss to be noticed');
    expect(await walked).toBe(1);
    expect(d.stats.walked).toBe(1);
    expect(await db1.exists(key)).toBe(0);
    await waitTrusted();
    await db1.set(key, 'v', 'EX', 600);
    expect(await del(d, '7')).toBe(1);
    expect(d.stats.indexed).toBe(1);
  });

  it('a key written while notifications were lost is still deleted', async () => {
    const d = await start();
    const duringGap = `${ns}:stats:gap:brand:3`;
    let written: Promise<unknown> | undefined;
    onState = (state) => {
      // written before the subscriber is back: no notification of it ever reaches the index
      if (state === 'untrusted' && !written) written = db1.set(duringGap, 'v', 'EX', 600);
    };
    await killSubscriber();
    await waitFor(() => written !== undefined, 10_000, 'the gap');
    await written;
    await waitTrusted(); // rebuilt by a walk, which found the key
    expect(await del(d, '3')).toBe(1);
    expect(d.stats).toMatchObject({ indexed: 1 });
    expect(await db1.exists(duringGap)).toBe(0);
  });

  it('notifications turned off without a disconnect: the fence times out and the delete walks', async () => {
    const d = await start();
    await db1.config('SET', 'notify-keyspace-events', '');
    const silent = `${ns}:stats:silent:brand:4`;
    await db1.set(silent, 'v', 'EX', 600); // the index never hears of it
    expect(await del(d, '4')).toBe(1);
    expect(d.stats).toEqual({ indexed: 0, walked: 1 });
    expect(await db1.exists(silent)).toBe(0);
    expect(states).toContain('untrusted');
    await db1.config('SET', 'notify-keyspace-events', 'KA');
    await waitTrusted();
  });

  it('without notify-keyspace-events the start-up check warns and pattern deletes walk', async () => {
    await db1.config('SET', 'notify-keyspace-events', '');
    const lines: string[] = [];
    const d = await start(createLogger('warn', { write: (l: string) => void lines.push(l) }));
    // the index exists but is never trusted while the feed is not whole
    expect(index()?.state).not.toBe('trusted');
    expect(lines.join('')).toContain(
      'pattern index untrusted: notify-keyspace-events lacks Kg$lshzt',
    );
    const key = `${ns}:stats:a:brand:5`;
    await db1.set(key, 'v', 'EX', 600);
    expect(await del(d, '5')).toBe(1);
    expect(d.stats).toEqual({ indexed: 0, walked: 1 });
  });

  /** CLIENT KILL of the index's subscriber connection (it reconnects by itself). */
  async function killSubscriber(): Promise<void> {
    const list = (await db1.client('LIST')) as string;
    const ids = list
      .split('\n')
      .filter((l) => l.includes('name=mis-cache-sync:pattern-index') && / psub=[1-9]/.test(l))
      .map((l) => /id=(\d+)/.exec(l)?.[1])
      .filter((id): id is string => id !== undefined);
    expect(ids).toHaveLength(1);
    await db1.client('KILL', 'ID', ids[0] as string);
  }
});
