/**
 * Redis that fails over, under a steady stream of changes: the master dies (SIGKILL) mid-stream,
 * a replica is promoted, and the running service (never restarted) follows the new topology.
 * Every changed user's key must be gone from the promoted node. With MCS_REDIS_WAIT_REPLICAS=1 a
 * batch is committed only once the replica holds its deletes, so a delete the dying master
 * acknowledged but had not replicated is re-applied rather than lost.
 * Topologies: Redis Sentinel (scripts/stack/redis-sentinel.sh: master, replica, 3 sentinels)
 * and Redis Cluster with replicas (scripts/stack/redis-cluster.sh, REDIS_CLUSTER_REPLICAS=1).
 * Figures are printed as `FAILOVER …` lines.
 */
import { execFileSync } from 'node:child_process';
import type { ConnectionPool } from '@databases/mysql';
import Redis, { Cluster } from 'ioredis';
import { loadRules } from '../../src/rules/registry';
import { ROOT, useServiceProcesses, type ServiceProcess } from '../support/service-process';
import { faultServiceEnv, insertGrants, sentinelRedisUrl, sentinelScript } from '../support/faults';
import { mysqlPool, sql, uniq, uniqId, waitCaughtUp, waitFor } from '../support/stack';

const CLUSTER_BASE = Number(process.env.REDIS_REPLICA_CLUSTER_BASE_PORT || 17021);
const USERS = 300;
const WRITE_MS = 12_000;
const SETTLE_MS = 120_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function clusterScript(...args: string[]): string {
  return execFileSync('bash', [`${ROOT}/scripts/stack/redis-cluster.sh`, ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      REDIS_CLUSTER_BASE_PORT: String(CLUSTER_BASE),
      REDIS_CLUSTER_REPLICAS: '1',
      REDIS_CLUSTER_NODE_TIMEOUT: '2000',
    },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

describe('Redis failover under a stream of changes', () => {
  let db: ConnectionPool;
  const topics = loadRules().tables.map((t) => `${process.env.TOPIC_PREFIX ?? 'mis'}.mis.${t}`);
  const { start } = useServiceProcesses();

  beforeAll(() => {
    db = mysqlPool();
  });
  afterAll(async () => {
    await db?.dispose();
    // Nothing left running, locally or in CI.
    sentinelScript('down');
    clusterScript('down');
  });

  /** Users with one grant each, the service caught up with the inserts. */
  async function prepare(group: string): Promise<number[]> {
    const base = uniqId();
    const users = Array.from({ length: USERS }, (_, i) => base + i);
    await insertGrants(db, users);
    await waitCaughtUp(group, topics, SETTLE_MS);
    return users;
  }

  /** Revokes each user's grant once over WRITE_MS; `fault` runs a third of the way in. */
  async function revokeWithFault(users: number[], fault: () => void): Promise<void> {
    const pause = WRITE_MS / users.length;
    for (const [i, u] of users.entries()) {
      if (i === Math.floor(users.length / 3)) fault();
      await db.query(sql`UPDATE user_auth SET read_yn = 'N' WHERE user_id = ${u}`);
      await sleep(pause);
    }
  }

  async function cleanup(users: number[]): Promise<void> {
    await db.query(
      sql`DELETE FROM user_auth WHERE user_id BETWEEN ${users[0]} AND ${users[users.length - 1]}`,
    );
  }

  const serviceEnv = (group: string, extra: Record<string, string>) =>
    faultServiceEnv(group, { MCS_REDIS_WAIT_REPLICAS: '1', MCS_DAILY_STATS_CRON: '', ...extra });

  it('Sentinel: the master is killed, the replica promoted, the service follows: 0 lost', async () => {
    sentinelScript('up');
    const firstMaster = Number(sentinelScript('master').trim());
    const group = `mcs-failover-sentinel-${uniq()}`;
    const proc = await start(serviceEnv(group, { REDIS_URL: sentinelRedisUrl() }));
    const users = await prepare(group);
    // Armed on the master and replicated, so the promoted replica holds them too.
    const master = new Redis({ port: firstMaster, host: '127.0.0.1', db: 1 });
    const pipe = master.pipeline();
    for (const u of users) pipe.set(`permissions:user:${u}`, '{"admin_user":{}}', 'EX', 3600);
    await pipe.exec();
    expect(await master.wait(1, 5000)).toBe(1);
    master.disconnect();

    const t0 = Date.now();
    await revokeWithFault(users, () => sentinelScript('kill-master'));
    const newMaster = Number(sentinelScript('master').trim());
    expect(newMaster).not.toBe(firstMaster);
    await waitCaughtUp(group, topics, SETTLE_MS);
    const settleMs = Date.now() - t0 - WRITE_MS;

    const promoted = new Redis({ port: newMaster, host: '127.0.0.1', db: 1 });
    const present = (
      await Promise.all(users.map((u) => promoted.exists(`permissions:user:${u}`)))
    ).reduce((a, b) => a + b, 0);
    promoted.disconnect();
    console.log(
      `FAILOVER sentinel: ${users.length} changes, master ${firstMaster} killed → ${newMaster} promoted, still present ${present}, settled ${settleMs} ms after the last write, outages logged ${outages(proc)}`,
    );
    expect(proc.child.exitCode).toBeNull(); // followed the new master without a restart
    expect(present).toBe(0);
    await cleanup(users);
  });

  it('Cluster with replicas: a master is killed, its replica takes over: 0 lost', async () => {
    clusterScript('up');
    const group = `mcs-failover-cluster-${uniq()}`;
    const proc = await start(
      serviceEnv(group, {
        REDIS_URL: `redis://127.0.0.1:${CLUSTER_BASE}`,
        MCS_REDIS_CLUSTER: 'true',
      }),
    );
    const users = await prepare(group);
    const cluster = new Cluster([{ host: '127.0.0.1', port: CLUSTER_BASE }]);
    try {
      // Keys of many slots: no single pipeline (ioredis pipelines stay within one slot).
      await Promise.all(
        users.map((u) => cluster.set(`permissions:user:${u}`, '{"admin_user":{}}', 'EX', 3600)),
      );
      for (const node of cluster.nodes('master')) expect(await node.wait(1, 5000)).toBe(1);
      // The victim: the master serving the first user's key.
      const slot = Number(await cluster.cluster('KEYSLOT', `permissions:user:${users[0]}`));
      const victimPort = Number(cluster.slots[slot]?.[0]?.split(':')[1]);
      expect(victimPort).toBeGreaterThan(0);

      const t0 = Date.now();
      await revokeWithFault(users, () => clusterScript('kill-node', String(victimPort)));
      await waitCaughtUp(group, topics, SETTLE_MS);
      const settleMs = Date.now() - t0 - WRITE_MS;

      // The checking client must see the promoted replica as the slot's master.
      await waitFor(
        async () => {
          try {
            await cluster.exists(`permissions:user:${users[0]}`);
            return true;
          } catch {
            return false;
          }
        },
        30_000,
        'the cluster to serve every slot again',
        200,
      );
      const present = (
        await Promise.all(users.map((u) => cluster.exists(`permissions:user:${u}`)))
      ).reduce((a, b) => a + b, 0);
      console.log(
        `FAILOVER cluster: ${users.length} changes, master ${victimPort} killed, still present ${present}, settled ${settleMs} ms after the last write, outages logged ${outages(proc)}`,
      );
      expect(proc.child.exitCode).toBeNull();
      expect(present).toBe(0);
    } finally {
      cluster.disconnect();
      await cleanup(users);
    }
  });
});

/** How often the service logged a lost dependency (the failover as the service saw it). */
function outages(proc: ServiceProcess): number {
  return proc.output().split('dependency unavailable').length - 1;
}
