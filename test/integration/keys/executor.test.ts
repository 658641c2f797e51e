/**
 * KeyExecutor against the real Redis (and MariaDB for refresh loaders): exact pattern matching,
 * one logical DB per family, chunked SCAN/UNLINK, versioned refresh under a lock.
 */
import { loadConfig } from '../../../src/config/config';
import { createRowLoader, type RowLoader } from '../../../src/mysql/loader';
import { createRedisClients } from '../../../src/redis/clients';
import { KeyExecutor } from '../../../src/keys/executor';
import { refreshLockKey, versionKey } from '../../../src/redis/scripts';

const vkey = (key: string): string => {
  const v = versionKey(key);
  if (v === undefined) throw new Error(`no version key for ${key}`);
  return v;
};
import type { KeyOp, RefreshOp } from '../../../src/rules/ops';
import { escapeGlob } from '../../../src/rules/template';
import { silentLogger } from '../../../src/telemetry/logger';
import { useStack } from '../../support/harness';
import { uniq } from '../../support/stack';

describe('KeyExecutor on Redis', () => {
  const config = loadConfig();
  const stack = useStack();
  const [db0, db1, db2] = [stack.redis(0), stack.redis(1), stack.redis(2)];
  const clients = stack.redisClients(config.redis);
  let loader: RowLoader;
  let ns: string;

  beforeAll(() => {
    loader = createRowLoader(config.mysql.url);
  });
  stack.cleanup(() => loader.close());
  beforeEach(() => {
    ns = `t-exec-${uniq()}`; // every key of a test lives under its own prefix
  });
  afterEach(async () => {
    for (const c of [db0, db1, db2]) {
      // test cleanup only; the service never uses KEYS
      const keys = [
        ...(await c.keys(`${ns}*`)),
        ...(await c.keys(`*{${ns}*`)),
        ...(await c.keys(`lock:refresh:${ns}*`)),
      ];
      if (keys.length) await c.del(...keys);
    }
  });

  const executor = (
    opts: Partial<{ scanCount: number; unlinkBatch: number }> = {},
    withLoader = true,
  ) =>
    new KeyExecutor({
      ports: clients.ports,
      options: { scanCount: 500, unlinkBatch: 500, ttl: config.redis.ttl, ...opts },
      loader: withLoader ? loader : undefined,
      logger: silentLogger(),
    });

  it('a brand pattern removes exactly that brand: 1 never touches 10, 11 or 12', async () => {
    const doomed = [
      `${ns}:stats:daily:brand:1`,
      `${ns}:stats:daily:brand:1:20240101`,
      `${ns}:stats:m:brand:1:x:y`,
    ];
    const kept = [
      `${ns}:stats:daily:brand:10`,
      `${ns}:stats:daily:brand:12:20240101`,
      `${ns}:stats:daily:brand:11`,
      `${ns}:stats:daily:brand:1x`,
      `${ns}:stats:daily:brands:1`,
    ];
    for (const k of [...doomed, ...kept]) await db1.set(k, 'v', 'EX', 600);
    const id = escapeGlob('1');
    const result = await executor().apply([
      { family: 'stats', action: 'pattern-delete', key: `${ns}:stats:*:brand:${id}` },
      { family: 'stats', action: 'pattern-delete', key: `${ns}:stats:*:brand:${id}:*` },
    ]);
    expect(result).toMatchObject({ deleted: 3, scans: 2 });
    expect(await db1.exists(...doomed)).toBe(0);
    expect(await db1.exists(...kept)).toBe(kept.length);
  });

  it('deletes each key in the logical DB of its family only', async () => {
    const key = `${ns}:k`;
    await Promise.all([db0.set(key, 's'), db1.set(key, 'c'), db2.set(key, 't')]);
    await executor().apply([{ family: 'session', action: 'delete', key }]);
    expect(await db0.exists(key)).toBe(0);
    expect(await db1.get(key)).toBe('c');
    await executor().apply([{ family: 'temp', action: 'delete', key }]);
    expect(await db2.exists(key)).toBe(0);
    expect(await db1.get(key)).toBe('c');
  });

  it('walks large patterns in small SCAN and UNLINK steps', async () => {
    const pipeline = db1.pipeline();
    for (let i = 0; i < 1000; i++) pipeline.set(`${ns}:stats:x:brand:7:${i}`, '1', 'EX', 600);
    await pipeline.exec();
    const result = await executor({ scanCount: 10, unlinkBatch: 7 }).apply([
      { family: 'stats', action: 'pattern-delete', key: `${ns}:stats:*:brand:7:*` },
      { family: 'stats', action: 'delete', key: `${ns}:absent` },
    ]);
    expect(result.deleted).toBe(1000);
    expect(await db1.keys(`${ns}:*`)).toEqual([]);
  });

  it('escaped glob characters in ids match literally', async () => {
    await db1.set(`${ns}:brand:a*`, '1');
    await db1.set(`${ns}:brand:abc`, '1');
    await executor().apply([
      { family: 'stats', action: 'pattern-delete', key: `${ns}:brand:${escapeGlob('a*')}` },
    ]);
    expect(await db1.exists(`${ns}:brand:a*`)).toBe(0);
    expect(await db1.exists(`${ns}:brand:abc`)).toBe(1);
  });

  describe('refresh', () => {
    const refresh = (
      key: string,
      version: string,
      sql = 'SELECT brand_id AS id, brand_name AS name FROM brands WHERE brand_id <= ? ORDER BY brand_id',
    ): RefreshOp => ({
      family: 'master',
      action: 'refresh',
      key,
      sql,
      params: [3],
      version,
    });

    it('rebuilds the key from MySQL as JSON with the family TTL and leaves no lock', async () => {
      const key = `${ns}:master:brands`;
      const result = await executor().apply([refresh(key, 'b:0001')]);
      expect(result).toMatchObject({ refreshed: 1, refreshFallbacks: 0 });
      const rows = JSON.parse((await db1.get(key)) ?? 'null');
      expect(rows.map((r: { id: number }) => r.id)).toEqual([1, 2, 3]);
      expect(typeof rows[0].name).toBe('string');
      const ttl = await db1.ttl(key);
      expect(ttl).toBeGreaterThan(config.redis.ttl.master - 10);
      expect(ttl).toBeLessThanOrEqual(config.redis.ttl.master);
      expect(await db1.exists(refreshLockKey(key))).toBe(0);
    });

    it('an older rebuild never overwrites a newer one', async () => {
      const key = `${ns}:master:brands`;
      await executor().apply([refresh(key, 'b:0005')]);
      await db1.set(key, 'newer', 'KEEPTTL');
      const result = await executor().apply([refresh(key, 'b:0004')]);
      expect(result.refreshed).toBe(0);
      // the older change deletes rather than writing its older view
      expect(await db1.exists(key)).toBe(0);
      expect(await db1.get(vkey(key))).toBe('b:0005');
    });

    it('with the lock held elsewhere it deletes and raises the version so the holder cannot write', async () => {
      const key = `${ns}:master:brands`;
      await db1.set(key, 'stale', 'EX', 600);
      await db1.set(refreshLockKey(key), 'other-instance', 'EX', 60);
      const result = await executor().apply([refresh(key, 'b:0009')]);
      expect(result).toMatchObject({ refreshed: 0, refreshFallbacks: 1 });
      expect(await db1.exists(key)).toBe(0);
      expect(await db1.get(vkey(key))).toBe('b:0009');
      expect(await db1.get(refreshLockKey(key))).toBe('other-instance'); // not ours to release
      await db1.del(refreshLockKey(key));
      expect((await executor().apply([refresh(key, 'b:0008')])).refreshed).toBe(0);
    });

    it('a failing query deletes the key instead (readers rebuild it)', async () => {
      const key = `${ns}:master:brands`;
      await db1.set(key, 'stale', 'EX', 600);
      const result = await executor().apply([
        refresh(key, 'b:0001', 'SELECT nope FROM no_such_table WHERE 1 = ?'),
      ]);
      expect(result).toMatchObject({ refreshed: 0, refreshFallbacks: 1 });
      expect(await db1.exists(key)).toBe(0);
    });
  });

  it('turns a Redis failure into a retryable REDIS_UNAVAILABLE', async () => {
    const broken = createRedisClients(
      { ...config.redis, url: 'redis://127.0.0.1:1' },
      silentLogger(),
    );
    const ops: KeyOp[] = [{ family: 'stats', action: 'delete', key: `${ns}:x` }];
    const exec = new KeyExecutor({
      ports: broken.ports,
      options: { scanCount: 10, unlinkBatch: 10, ttl: config.redis.ttl },
      loader: undefined,
      logger: silentLogger(),
    });
    await expect(exec.apply(ops)).rejects.toMatchObject({
      code: 'REDIS_UNAVAILABLE',
      retryable: true,
    });
    await broken.close();
  });
});
