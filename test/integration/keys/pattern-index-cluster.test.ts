/**
 * The pattern index on a real Redis Cluster with replicas (3 masters, 3 replicas, on a base port
 * of its own): one index per master, trusted after its rebuild; a brand's keys spread over every
 * master deleted from the indexes without a walk; and after a master is killed and its replica
 * promoted, the new master's index is rebuilt and a delete leaves nothing behind, keys written
 * during the failover included.
 */
import calculateSlot from 'cluster-key-slot';
import Redis, { type Cluster } from 'ioredis';
import { loadConfig, type Config } from '../../../src/config/config';
import { createRedisClients, type RedisClients } from '../../../src/redis/clients';
import { startPatternDeletes, type PatternDeletes } from '../../../src/keys/pattern-deletes';
import type { TrustState } from '../../../src/keys/pattern-index';
import { compileRule } from '../../../src/rules/compile';
import { fromRules } from '../../../src/rules/registry';
import { escapeGlob } from '../../../src/rules/template';
import { silentLogger } from '../../../src/telemetry/logger';
import { clusterVerifier, testCluster } from '../../support/redis-cluster';
import { uniq, waitFor } from '../../support/stack';

const BASE = Number(process.env.REDIS_PIDX_CLUSTER_BASE_PORT || 17301);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pattern index on a Redis Cluster', () => {
  const cluster = testCluster({ basePort: BASE, replicas: 1, nodeTimeoutMs: 2000 });
  let config: Config;
  let clients: RedisClients;
  let verifier: Cluster;
  let ns: string;
  let deletes: PatternDeletes | undefined;
  let states: [string, TrustState][];

  beforeAll(async () => {
    cluster.up();
    await cluster.notifyAll();
    config = loadConfig({
      env: {
        KAFKA_BROKERS: '127.0.0.1:1',
        REDIS_URL: cluster.url,
        MCS_REDIS_CLUSTER: 'true',
      },
      ignoreStackEnv: true,
    });
    clients = createRedisClients(config.redis, silentLogger());
    await clients.ready();
    verifier = clusterVerifier(BASE);
    await verifier.ping();
  }, 90_000);
  beforeEach(() => {
    ns = `t-pidxc-${uniq()}`;
    states = [];
  });
  afterEach(async () => {
    await deletes?.close();
    deletes = undefined;
    // test cleanup only (the service never uses KEYS)
    for (const node of verifier.nodes('master')) {
      const keys = await node.keys(`${ns}*`).catch(() => [] as string[]);
      await Promise.all(keys.map((k) => verifier.unlink(k)));
    }
  });
  afterAll(async () => {
    await clients?.close();
    verifier?.disconnect();
    cluster.down(); // this file's own cluster: never left running
  });

  const brand = (id: string) => `${ns}:stats:*:brand:${escapeGlob(id)}`;
  const masterOf = (key: string): string => {
    const owner = verifier.slots[calculateSlot(key)]?.[0];
    if (!owner) throw new Error(`no owner known for ${key}`);
    return owner;
  };
  const present = async (keys: readonly string[]) =>
    (await Promise.all(keys.map((k) => verifier.exists(k)))).reduce((a, b) => a + b, 0);

  async function start(): Promise<PatternDeletes> {
    const rule = compileRule(
      {
        table: 't',
        targets: [
          { key: `${ns}:stats:*:brand:{brand_id}`, family: 'stats', action: 'pattern-delete' },
        ],
      },
      'pattern-index-cluster.test',
    );
    deletes = await startPatternDeletes({
      config: { ...config.redis, patternIndex: 'require', patternFenceTimeoutMs: 1000 },
      rules: fromRules([rule]),
      clients,
      logger: silentLogger(),
      onState: (_db, state, _reason, server) => states.push([server, state]),
    });
    await waitAllTrusted(deletes);
    return deletes;
  }

  /** Every master of the slot table has an index, and each is trusted. */
  const waitAllTrusted = (d: PatternDeletes, timeoutMs = 30_000) =>
    waitFor(
      () => {
        const idx = [...d.indexes.values()];
        return idx.length === 3 && idx.every((i) => i.state === 'trusted');
      },
      timeoutMs,
      'an index per master, each trusted',
    );
  const del = (d: PatternDeletes, id: string) =>
    d.deleteMatching(clients.ports.stats, [[brand(id), 'stats']]);

  it('one index per master answers a delete of keys spread over every master: no walk', async () => {
    const d = await start();
    const masters = new Set(Object.values(verifier.slots).map((s) => s[0]));
    expect(new Set(states.filter(([, s]) => s === 'trusted').map(([m]) => m))).toEqual(masters);
    const doomed = Array.from({ length: 60 }, (_, i) => `${ns}:stats:s${i}:brand:1`);
    const kept = Array.from({ length: 30 }, (_, i) => `${ns}:stats:s${i}:brand:10`);
    await Promise.all([...doomed, ...kept].map((k) => verifier.set(k, 'v', 'EX', 600)));
    expect(new Set(doomed.map(masterOf)).size).toBe(3);
    const steps = d.budget.steps;
    expect(await del(d, '1')).toBe(doomed.length);
    expect(d.stats).toEqual({ indexed: 3, walked: 0 }); // one answer per master
    expect(d.budget.steps).toBe(steps); // not a single SCAN step
    expect(await present(doomed)).toBe(0);
    expect(await present(kept)).toBe(kept.length);
  });

  it('a slot migrated to another master: both indexes are rebuilt and the keys deleted where they are', async () => {
    const d = await start();
    const [a, b] = [...new Set(Object.values(verifier.slots).map((x) => x[0] ?? ''))];
    if (!a || !b) throw new Error('fewer than two masters');
    // a hash tag of a slot of master a: every key of it moves together
    let n = 0;
    while (masterOf(`{m${n}}`) !== a) n++;
    const slot = calculateSlot(`m${n}`);
    const keys = Array.from({ length: 5 }, (_, i) => `${ns}:stats:{m${n}}${i}:brand:4`);
    await Promise.all(keys.map((k) => verifier.set(k, 'v', 'EX', 600)));
    const node = (addr: string) =>
      new Redis({ port: Number(addr.split(':')[1]), host: '127.0.0.1', lazyConnect: true });
    const [na, nb] = [node(a), node(b)];
    try {
      const [idA, idB] = [String(await na.cluster('MYID')), String(await nb.cluster('MYID'))];
      const trustedBefore = states.filter(([, s]) => s === 'trusted').length;
      await nb.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', idA);
      await na.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', idB);
      await na.call('MIGRATE', '127.0.0.1', b.split(':')[1] ?? '', '', 0, 5000, 'KEYS', ...keys);
      for (const m of verifier.nodes('master'))
        await m.call('CLUSTER', 'SETSLOT', slot, 'NODE', idB);
      // a and b have other slot ranges now: both indexes are replaced and rebuilt
      await waitFor(
        () => states.filter(([, s]) => s === 'trusted').length >= trustedBefore + 2,
        30_000,
        'the indexes of both masters rebuilt',
        50,
      );
      await waitAllTrusted(d);
    } finally {
      na.disconnect();
      nb.disconnect();
    }
    await new Promise((r) => verifier.refreshSlotsCache(r));
    expect(masterOf(keys[0] ?? '')).toBe(b);
    const later = `${ns}:stats:{m${n}}later:brand:4`;
    await verifier.set(later, 'v', 'EX', 600); // on b, learnt by b's new index
    const stats = { ...d.stats };
    expect(await del(d, '4')).toBe(keys.length + 1);
    expect(await present([...keys, later])).toBe(0);
    expect(d.stats.indexed - stats.indexed).toBe(3);
    expect(d.stats.walked).toBe(stats.walked);
  });

  it('after a master is killed and its replica promoted, the new master is indexed and nothing stays', async () => {
    const d = await start();
    const before = Array.from({ length: 60 }, (_, i) => `${ns}:stats:b${i}:brand:2`);
    await Promise.all(before.map((k) => verifier.set(k, 'v', 'EX', 600)));
    // replicated, so the promoted replica holds them too (a fresh replica may still be syncing)
    for (const node of verifier.nodes('master'))
      await waitFor(async () => (await node.wait(1, 1000)) === 1, 30_000, 'the replica to ack');
    const victim = masterOf(before[0] ?? '');

    // Writes go on during the failover (a write to the dead master's slots fails until the
    // promotion; only the ones that succeeded are expected gone).
    const during: string[] = [];
    let writing = true;
    const writer = (async () => {
      for (let n = 0; writing; n++) {
        const key = `${ns}:stats:f${n}:brand:2`;
        try {
          await verifier.set(key, 'v', 'EX', 600);
          during.push(key);
        } catch {
          // the slot's master is down: not written; look for its successor
          verifier.refreshSlotsCache();
        }
        await sleep(20);
      }
    })();
    cluster.killNode(Number(victim.split(':')[1]));
    // Deletes keep coming while the master is down, as the executor retries its batch: each
    // walks the dead master (its index is untrusted) and fails; none may hold up the rebuild of
    // the promoted replica's index.
    let retrying = true;
    let failedDeletes = 0;
    const retrier = (async () => {
      while (retrying) {
        await del(d, '3').catch(() => failedDeletes++);
        await sleep(100);
      }
    })();
    const first = new Set(states.map(([server]) => server));
    const promotedIn = await waitFor(
      () => states.some(([server, state]) => state === 'trusted' && !first.has(server)),
      30_000,
      'the promoted replica to get a trusted index',
      50,
    );
    await waitAllTrusted(d, 30_000);
    await sleep(300); // a few writes on the new master after its rebuild too
    writing = false;
    retrying = false;
    await Promise.all([writer, retrier]);
    console.log(
      `[pattern-index-cluster] ${victim} killed: promoted master indexed after ${promotedIn} ms; ${during.length} keys written, ${failedDeletes} deletes failed meanwhile`,
    );
    await new Promise((r) => verifier.refreshSlotsCache(r));
    const newOwner = masterOf(before[0] ?? '');
    expect(newOwner).not.toBe(victim);
    expect(during.filter((k) => masterOf(k) === newOwner).length).toBeGreaterThan(0);

    const stats = { ...d.stats };
    const all = [...before, ...during];
    // a write the dying master acknowledged but had not replicated is lost with it: not counted
    const existing = await present(all);
    expect(existing).toBeGreaterThan(before.length);
    expect(await del(d, '2')).toBe(existing);
    expect(await present(all)).toBe(0);
    expect(d.stats.indexed - stats.indexed).toBe(3); // every master answered from its index
    expect(d.stats.walked).toBe(stats.walked);
  });
});
