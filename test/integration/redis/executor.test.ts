/** KeyExecutor against the real Redis: exact pattern matching, DB separation, chunking. */
import type Redis from 'ioredis';
import { KeyExecutor } from '../../../src/redis/executor';
import { escapeGlob } from '../../../src/rules/template';
import { redisDb, uniq } from '../../support/stack';

describe('KeyExecutor on Redis', () => {
  let session: Redis;
  let cache: Redis;
  let temp: Redis;
  let ns: string;

  beforeAll(() => {
    session = redisDb(0);
    cache = redisDb(1);
    temp = redisDb(2);
  });
  beforeEach(() => {
    ns = `t-exec-${uniq()}`; // every key of a test lives under its own prefix
  });
  afterEach(async () => {
    for (const c of [session, cache, temp]) {
      const keys = await c.keys(`${ns}*`); // test cleanup only; the service never uses KEYS
      if (keys.length) await c.del(...keys);
    }
  });
  afterAll(async () => {
    await Promise.all([session.quit(), cache.quit(), temp.quit()]);
  });

  const executor = (opts = { scanCount: 500, unlinkBatch: 500 }) =>
    new KeyExecutor({ session, cache, temp }, opts);

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
    for (const k of [...doomed, ...kept]) await cache.set(k, 'v', 'EX', 600);
    const id = escapeGlob('1');
    const result = await executor().apply([
      { db: 'cache', action: 'pattern-delete', key: `${ns}:stats:*:brand:${id}` },
      { db: 'cache', action: 'pattern-delete', key: `${ns}:stats:*:brand:${id}:*` },
    ]);
    expect(result).toEqual({ deleted: 3, scans: 2 });
    expect(await cache.exists(...doomed)).toBe(0);
    expect(await cache.exists(...kept)).toBe(kept.length);
  });

  it('deletes each key in its own logical DB only', async () => {
    const key = `${ns}:session:user:5`;
    await Promise.all([session.set(key, 's'), cache.set(key, 'c'), temp.set(key, 't')]);
    await executor().apply([{ db: 'session', action: 'delete', key }]);
    expect(await session.exists(key)).toBe(0);
    expect(await cache.get(key)).toBe('c');
    expect(await temp.get(key)).toBe('t');
  });

  it('walks large patterns in small SCAN and UNLINK steps', async () => {
    const pipeline = cache.pipeline();
    for (let i = 0; i < 1000; i++) pipeline.set(`${ns}:stats:x:brand:7:${i}`, '1', 'EX', 600);
    await pipeline.exec();
    const result = await executor({ scanCount: 10, unlinkBatch: 7 }).apply([
      { db: 'cache', action: 'pattern-delete', key: `${ns}:stats:*:brand:7:*` },
      { db: 'cache', action: 'delete', key: `${ns}:absent` },
    ]);
    expect(result.deleted).toBe(1000);
    expect(await cache.keys(`${ns}:*`)).toEqual([]);
  });

  it('escaped glob characters in ids match literally', async () => {
    await cache.set(`${ns}:brand:a*`, '1');
    await cache.set(`${ns}:brand:abc`, '1');
    await executor().apply([
      { db: 'cache', action: 'pattern-delete', key: `${ns}:brand:${escapeGlob('a*')}` },
    ]);
    expect(await cache.exists(`${ns}:brand:a*`)).toBe(0);
    expect(await cache.exists(`${ns}:brand:abc`)).toBe(1);
  });
});
