/**
 * KeyExecutor in cluster mode against a real 3-master Redis Cluster (scripts/stack/redis-cluster.sh,
 * 127.0.0.1:17001-17003) and the stack's MariaDB for refresh loaders: multi-key deletes split by
 * hash slot (no CROSSSLOT), pattern deletes that SCAN every master, versioned refresh whose
 * version key shares the cache key's slot, and one DB (0) for every family.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import calculateSlot from 'cluster-key-slot';
import Redis, { Cluster } from 'ioredis';
import { loadConfig, type Config } from '../../../src/config/config';
import { FAMILIES, type Family } from '../../../src/core/families';
import { createRowLoader, type RowLoader } from '../../../src/mysql/loader';
import { createRedisClients, type RedisClients } from '../../../src/redis/clients';
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
import { stackEnv, uniq } from '../../support/stack';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'stack', 'redis-cluster.sh');
const BASE_PORT = Number(process.env.REDIS_CLUSTER_BASE_PORT || 17001);

function clusterScript(command: 'up' | 'down'): void {
  execFileSync('bash', [SCRIPT, command], { cwd: ROOT, stdio: 'inherit' });
}

function clusterConfig(extra: Record<string, string> = {}): Config {
  return loadConfig({
    env: {
      KAFKA_BROKERS: '127.0.0.1:1',
      REDIS_URL: `redis://127.0.0.1:${BASE_PORT}`,
      MCS_REDIS_CLUSTER: 'true',
      ...extra,
    },
    ignoreStackEnv: true,
  });
}

describe('KeyExecutor on a Redis Cluster', () => {
  let config: Config;
  let clients: RedisClients;
  let loader: RowLoader;
  /** An independent client, for seeding and checking where keys live. */
  let verifier: Cluster;
  let ns: string;

  beforeAll(async () => {
    const started = Date.now();
    clusterScript('up');
    console.log(`[cluster.test] cluster up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    config = clusterConfig();
    clients = createRedisClients(config.redis, silentLogger());
    await clients.ready();
    loader = createRowLoader(stackEnv('MYSQL_URL'));
    verifier = new Cluster([{ host: '127.0.0.1', port: BASE_PORT }], {
      redisOptions: { maxRetriesPerRequest: 2 },
    });
    await verifier.ping();
  }, 90_000);
  beforeEach(() => {
    ns = `t-cluster-${uniq()}`; // every key of a test lives under its own prefix
  });
  afterEach(async () => {
    // test cleanup only (the service never uses KEYS): cache keys, version keys, refresh locks
    for (const node of verifier.nodes('master')) {
      const keys = await node.keys(`*${ns}*`);
      await Promise.all(keys.map((k) => verifier.unlink(k)));
    }
  });
  afterAll(async () => {
    await clients?.close();
    await loader?.close();
    await verifier?.quit();
    // The cluster is this test's own: stopped after every run, not only in CI (a local run used
    // to leave three redis-server processes behind).
    clusterScript('down');
  });

  const executor = (opts: Partial<{ scanCount: number; unlinkBatch: number }> = {}) =>
    new KeyExecutor({
      ports: clients.ports,
      options: { scanCount: 500, unlinkBatch: 500, ttl: config.redis.ttl, ...opts },
      loader,
      logger: silentLogger(),
    });

  /** Master address ("host:port") serving the key's slot, from the verifier's slot table. */
  const masterOf = (key: string): string => {
    const owners = verifier.slots[calculateSlot(key)];
    if (!owners?.[0]) throw new Error(`no owner known for slot of ${key}`);
    return owners[0];
  };

  /** Keys of this test physically present on each master (checked node by node). */
  const keysPerMaster = async (pattern: string): Promise<Map<string, string[]>> => {
    const out = new Map<string, string[]>();
    for (const node of verifier.nodes('master')) {
      const found = await node.keys(pattern);
      if (found.length) out.set(`${node.options.host}:${node.options.port}`, found);
    }
    return out;
  };

  const seed = (keys: readonly string[], value = 'v') =>
    Promise.all(keys.map((k) => verifier.set(k, value, 'EX', 600)));

  it('runs against three masters', async () => {
    expect(verifier.nodes('master')).toHaveLength(3);
    expect(clients.raw).toHaveLength(1);
    expect(clients.raw[0]).toBeInstanceOf(Cluster);
    expect(clients.ports.stats.scanNodes()).toHaveLength(3); // one scanner per master
  });

  it('deletes many keys spread over every master in one batch (no CROSSSLOT) with the right count', async () => {
    const keys = Array.from({ length: 300 }, (_, i) => `${ns}:session:user:${i}`);
    await seed(keys);
    const where = await keysPerMaster(`${ns}:*`);
    expect(where.size).toBe(3);
    expect(new Set(keys.map((k) => calculateSlot(k))).size).toBeGreaterThan(100);
    const families: Family[] = ['session', 'permissions', 'temp'];
    const ops: KeyOp[] = [
      ...keys.map((key, i): KeyOp => ({
        family: families[i % 3] ?? 'session',
        action: 'delete',
        key,
      })),
      { family: 'master', action: 'delete', key: `${ns}:absent:1` },
      { family: 'stats', action: 'delete', key: `${ns}:absent:2` },
    ];
    // chunks of 64 keys, each chunk spanning dozens of slots on all three masters
    const result = await executor({ unlinkBatch: 64 }).apply(ops);
    expect(result).toEqual({ deleted: 300, scans: 0, refreshed: 0, refreshFallbacks: 0 });
    expect((await keysPerMaster(`${ns}:*`)).size).toBe(0);
  });

  it('a brand pattern scans every master: brand 1 goes, 10, 11, 12, 1x and brands:1 stay', async () => {
    const doomed: string[] = [];
    const kept: string[] = [];
    for (let i = 0; i < 20; i++) {
      doomed.push(
        `${ns}:stats:d${i}:brand:1`,
        `${ns}:stats:d${i}:brand:1:20240101`,
        `${ns}:stats:m${i}:brand:1:x:y`,
      );
      kept.push(
        `${ns}:stats:d${i}:brand:10`,
        `${ns}:stats:d${i}:brand:12:x`,
        `${ns}:stats:d${i}:brand:11`,
        `${ns}:stats:d${i}:brand:1x`,
        `${ns}:stats:d${i}:brands:1`,
      );
    }
    await seed([...doomed, ...kept]);
    const doomedMasters = new Set(doomed.map(masterOf));
    expect(doomedMasters.size).toBeGreaterThanOrEqual(2);
    expect(doomedMasters.size).toBe(3); // 60 keys over 3 masters: each holds some
    // and they really are there, node by node (not just per the slot table)
    const present = await keysPerMaster(`${ns}:stats:*:brand:1*`);
    expect(new Set([...present.keys()])).toEqual(doomedMasters);

    const id = escapeGlob('1');
    const result = await executor({ scanCount: 10, unlinkBatch: 7 }).apply([
      { family: 'stats', action: 'pattern-delete', key: `${ns}:stats:*:brand:${id}` },
      { family: 'stats', action: 'pattern-delete', key: `${ns}:stats:*:brand:${id}:*` },
    ]);
    expect(result).toMatchObject({ deleted: doomed.length, scans: 2 });
    const left = await Promise.all(doomed.map((k) => verifier.exists(k)));
    expect(left.reduce((a, b) => a + b, 0)).toBe(0);
    const stayed = await Promise.all(kept.map((k) => verifier.exists(k)));
    expect(stayed.reduce((a, b) => a + b, 0)).toBe(kept.length);
    expect(new Set(kept.map(masterOf)).size).toBe(3);
  });

  it('still scans every master after the connection to one of them dropped (idle timeout)', async () => {
    const doomed = Array.from({ length: 30 }, (_, i) => `${ns}:stats:d${i}:brand:1`);
    await seed(doomed);
    const victim = masterOf(doomed[0] ?? '');
    // make sure the service has a live connection to every master, then let one be closed by
    // the server, as `timeout 300` does to an idle client
    await executor().apply([{ family: 'stats', action: 'pattern-delete', key: `${ns}:none:*` }]);
    const [host, port] = victim.split(':');
    const admin = new Redis(Number(port), host ?? '127.0.0.1', { lazyConnect: false });
    try {
      const ours = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'normal'))
        .split('\n')
        .filter((line) => / name=mis-cache-sync /.test(line))
        .map((line) => /\bid=(\d+)/.exec(line)?.[1])
        .filter((id): id is string => id !== undefined);
      expect(ours.length).toBeGreaterThan(0);
      for (const id of ours) await admin.client('KILL', 'ID', id);
    } finally {
      await admin.quit();
    }
    await new Promise((r) => setTimeout(r, 200)); // the client notices the closed socket
    const result = await executor().apply([
      { family: 'stats', action: 'pattern-delete', key: `${ns}:stats:*:brand:1` },
    ]);
    expect(result.deleted).toBe(doomed.length);
    const left = await Promise.all(doomed.map((k) => verifier.exists(k)));
    expect(left.reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('a pattern delete before the topology is known fails retryably instead of scanning nothing', async () => {
    const doomed = Array.from({ length: 12 }, (_, i) => `${ns}:stats:d${i}:brand:1`);
    await seed(doomed);
    const fresh = createRedisClients(config.redis, silentLogger()); // not ready(): no slot table
    try {
      const exec = new KeyExecutor({
        ports: fresh.ports,
        options: { scanCount: 100, unlinkBatch: 100, ttl: config.redis.ttl },
        loader: undefined,
        logger: silentLogger(),
      });
      const ops: KeyOp[] = [
        { family: 'stats', action: 'pattern-delete', key: `${ns}:stats:*:brand:1` },
      ];
      await expect(exec.apply(ops)).rejects.toMatchObject({
        code: 'REDIS_UNAVAILABLE',
        retryable: true,
      });
      await fresh.ready();
      expect((await exec.apply(ops)).deleted).toBe(doomed.length);
    } finally {
      await fresh.close();
    }
  });

  describe('refresh', () => {
    const refresh = (key: string, version: string): RefreshOp => ({
      family: 'master',
      action: 'refresh',
      key,
      sql: 'SELECT 1 AS id WHERE 1 = ?',
      params: [1],
      version,
    });

    it('writes JSON with the family TTL, the version key in the same slot, on every master', async () => {
      const keys = Array.from({ length: 12 }, (_, i) => `${ns}:master:brands:${i}`);
      expect(new Set(keys.map(masterOf)).size).toBe(3);
      const result = await executor().apply(keys.map((k) => refresh(k, 'b:0001')));
      expect(result).toMatchObject({ refreshed: keys.length, refreshFallbacks: 0 });
      for (const key of keys) {
        expect(calculateSlot(vkey(key))).toBe(calculateSlot(key));
        expect(JSON.parse((await verifier.get(key)) ?? 'null')).toEqual([{ id: 1 }]);
        const ttl = await verifier.ttl(key);
        expect(ttl).toBeGreaterThan(config.redis.ttl.master - 10);
        expect(ttl).toBeLessThanOrEqual(config.redis.ttl.master);
        expect(await verifier.get(vkey(key))).toBe('b:0001');
        expect(await verifier.ttl(vkey(key))).toBeGreaterThan(0);
        expect(await verifier.exists(refreshLockKey(key))).toBe(0);
      }
    });

    it('an older version afterwards does not overwrite the newer one', async () => {
      const key = `${ns}:master:brands`;
      expect(await executor().apply([refresh(key, 'b:0005')])).toMatchObject({ refreshed: 1 });
      await verifier.set(key, 'newer', 'KEEPTTL');
      const result = await executor().apply([refresh(key, 'b:0004')]);
      expect(result).toMatchObject({ refreshed: 0, refreshFallbacks: 1 });
      // the older change deletes rather than writing its older view; the version stays
      expect(await verifier.exists(key)).toBe(0);
      expect(await verifier.get(vkey(key))).toBe('b:0005');
      expect(await verifier.exists(refreshLockKey(key))).toBe(0);
      // a newer change writes again
      expect(await executor().apply([refresh(key, 'b:0006')])).toMatchObject({ refreshed: 1 });
      expect(JSON.parse((await verifier.get(key)) ?? 'null')).toEqual([{ id: 1 }]);
      expect(await verifier.get(vkey(key))).toBe('b:0006');
    });
  });

  it('maps every family to DB 0 and one shared port, whatever the DB settings say', () => {
    const withDbs = clusterConfig({
      MCS_REDIS_DB_SESSION: '0',
      MCS_REDIS_DB_PERMISSIONS: '0',
      MCS_REDIS_DB_MASTER: '1',
      MCS_REDIS_DB_STATS: '1',
      MCS_REDIS_DB_TEMP: '2',
    });
    for (const c of [config, withDbs]) {
      expect(c.redis.cluster).toBe(true);
      for (const family of FAMILIES) expect(c.redis.db[family]).toBe(0);
    }
    const ports = new Set(FAMILIES.map((f) => clients.ports[f]));
    expect(ports.size).toBe(1);
  });
});
