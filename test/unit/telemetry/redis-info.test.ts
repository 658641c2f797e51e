/** Pure parts behind the Redis metrics and startup checks: INFO parsing, memory warnings. */
import { infoFigures, parseInfo } from '../../../src/redis/health';
import { memoryWarnings } from '../../../src/preflight/redis-startup';

const INFO = [
  '# Server',
  'redis_version:7.0.15',
  'tcp_port:16379',
  '',
  '# Memory',
  'used_memory:1048576',
  'used_memory_human:1.00M',
  'maxmemory:536870912',
  'maxmemory_policy:allkeys-lru',
  '',
  '# Stats',
  'expired_keys:12',
  'evicted_keys:3',
  'keyspace_hits:75',
  'keyspace_misses:25',
  '',
  '# Keyspace',
  'db0:keys=10,expires=10,avg_ttl=86000000',
  'db1:keys=250,expires=200,avg_ttl=3000000',
  '',
].join('\r\n');

describe('INFO parsing', () => {
  it('reads fields across sections, skipping headers and blank lines', () => {
    const fields = parseInfo(INFO);
    expect(fields.get('redis_version')).toBe('7.0.15');
    expect(fields.get('maxmemory_policy')).toBe('allkeys-lru');
    expect(fields.get('db1')).toBe('keys=250,expires=200,avg_ttl=3000000');
    expect(fields.has('# Memory')).toBe(false);
  });

  it('computes the figures the metrics expose, hit ratio = hits / (hits + misses)', () => {
    expect(infoFigures(parseInfo(INFO))).toEqual({
      usedMemory: 1048576,
      maxMemory: 536870912,
      keyspaceHits: 75,
      keyspaceMisses: 25,
      hitRatio: 0.75,
      evictedKeys: 3,
      expiredKeys: 12,
      dbKeys: { '0': 10, '1': 250 },
    });
  });

  it('leaves the hit ratio out before the first lookup, and missing fields out', () => {
    const f = infoFigures(parseInfo('keyspace_hits:0\nkeyspace_misses:0\nused_memory:5\n'));
    expect(f.hitRatio).toBeUndefined();
    expect(f.usedMemory).toBe(5);
    expect(f.evictedKeys).toBeUndefined();
    expect(f.dbKeys).toEqual({});
    expect(infoFigures(parseInfo('used_memory:n/a\n')).usedMemory).toBeUndefined();
  });
});

describe('memory warnings', () => {
  it('warns about allkeys-* policies (locks and queued jobs can be evicted)', () => {
    const [warning, ...rest] = memoryWarnings({ policy: 'allkeys-lru', maxmemory: 536870912 });
    expect(rest).toEqual([]);
    expect(warning).toMatch(/allkeys-lru/);
    expect(warning).toMatch(/lock/);
    expect(memoryWarnings({ policy: 'allkeys-lfu', maxmemory: 1 })).toHaveLength(1);
    expect(memoryWarnings({ policy: 'allkeys-random', maxmemory: 1 })).toHaveLength(1);
  });

  it('warns about maxmemory 0, and about nothing for volatile-* or noeviction with a limit', () => {
    expect(memoryWarnings({ policy: 'noeviction', maxmemory: 0 })).toEqual([
      expect.stringMatching(/maxmemory is 0/),
    ]);
    expect(memoryWarnings({ policy: 'allkeys-lru', maxmemory: 0 })).toHaveLength(2);
    expect(memoryWarnings({ policy: 'volatile-lru', maxmemory: 1 << 20 })).toEqual([]);
    expect(memoryWarnings({ policy: 'noeviction', maxmemory: 1 << 20 })).toEqual([]);
  });
});
