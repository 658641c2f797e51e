/**
 * On the three-broker stack (`npm run test:brokers`: STACK_KAFKA_BROKERS=3, change topics with
 * replication factor 3 and min.insync.replicas=2, six `user_auth` partitions): the broker leading
 * the busiest `user_auth` partition is stopped mid-stream, the partition leaders move, Debezium
 * keeps producing to the two survivors, and the service (never restarted) applies every change.
 * Figures are printed as `BROKERS …` lines.
 */
import { execFileSync } from 'node:child_process';
import type { ConnectionPool } from '@databases/mysql';
import type Redis from 'ioredis';
import { loadRules } from '../../src/rules/registry';
import {
  buildService,
  killHard,
  ROOT,
  startServiceProcess,
  type ServiceProcess,
} from '../support/service-process';
import { insertGrants } from '../support/faults';
import { kafka, mysqlPool, redisDb, sql, uniq, uniqId, waitCaughtUp } from '../support/stack';

const USERS = 600;
const WRITE_MS = 20_000;
const SETTLE_MS = 180_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function part(action: 'stop' | 'start', name: string): void {
  execFileSync('bash', [`${ROOT}/scripts/stack.sh`, 'part', action, name], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}

describe('three Kafka brokers: the leader of the busiest partition is lost', () => {
  let db: ConnectionPool;
  let cache: Redis;
  let proc: ServiceProcess | undefined;
  const topics = loadRules().tables.map((t) => `${process.env.TOPIC_PREFIX ?? 'mis'}.mis.${t}`);
  const userAuth = `${process.env.TOPIC_PREFIX ?? 'mis'}.mis.user_auth`;

  beforeAll(() => {
    if (process.env.STACK_KAFKA_BROKERS !== '3') {
      throw new Error(
        'run with `npm run test:brokers` (the three-broker stack, STACK_KAFKA_BROKERS=3)',
      );
    }
    buildService();
    db = mysqlPool();
    cache = redisDb(1);
  });
  afterAll(async () => {
    if (proc && proc.child.exitCode === null) await killHard(proc);
    await Promise.all([cache?.quit(), db?.dispose()]);
  });

  it('0 invalidations lost, no manual action', async () => {
    const admin = kafka().admin();
    await admin.connect();
    const group = `mcs-brokers-${uniq()}`;
    const base = uniqId();
    const users = Array.from({ length: USERS }, (_, i) => base + i);
    let stopped = '';
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [userAuth] });
      const partitions = meta.topics[0]?.partitions ?? [];
      expect(partitions.length).toBe(6);
      expect(partitions.every((p) => p.replicas.length === 3)).toBe(true);

      proc = await startServiceProcess(
        {
          MCS_GROUP_ID: group,
          MCS_SESSION_TIMEOUT_MS: '10000',
          MCS_SECOND_PASS_DELAY_MS: '0',
          MCS_RETRY_MAX_DELAY_MS: '500',
        },
        120_000,
      );
      await insertGrants(db, users);
      await waitCaughtUp(group, topics, SETTLE_MS);
      const pipe = cache.pipeline();
      for (const u of users) pipe.set(`permissions:user:${u}`, '{"admin_user":{}}', 'EX', 3600);
      await pipe.exec();

      // The busiest partition: the most records so far; its leader is the broker to stop.
      const offsets = await admin.fetchTopicOffsets(userAuth);
      const busiest = offsets.reduce((a, b) =>
        Number(b.high) - Number(b.low) > Number(a.high) - Number(a.low) ? b : a,
      );
      const leader = partitions.find((p) => p.partitionId === busiest.partition)?.leader ?? 1;
      const victim = leader === 1 ? 'kafka' : `kafka${leader}`;

      const pause = WRITE_MS / USERS;
      const t0 = Date.now();
      for (const [i, u] of users.entries()) {
        if (i === Math.floor(USERS / 3)) {
          part('stop', victim);
          stopped = victim;
        }
        await db.query(sql`UPDATE user_auth SET read_yn = 'N' WHERE user_id = ${u}`);
        await sleep(pause);
      }
      await waitCaughtUp(group, topics, SETTLE_MS);
      const settleMs = Date.now() - t0 - WRITE_MS;
      const after = await admin.fetchTopicMetadata({ topics: [userAuth] });
      const moved = after.topics[0]?.partitions.find((p) => p.partitionId === busiest.partition);
      const present = (
        await Promise.all(users.map((u) => cache.exists(`permissions:user:${u}`)))
      ).reduce((a, b) => a + b, 0);
      console.log(
        `BROKERS leader loss: ${USERS} changes, partition ${busiest.partition} led by broker ${leader} (${victim}) stopped after ${Math.floor(USERS / 3)}, new leader ${moved?.leader}; still present ${present}; caught up ${settleMs} ms after the last write`,
      );
      expect(moved?.leader).not.toBe(leader);
      expect(proc.child.exitCode).toBeNull();
      expect(present).toBe(0);
    } finally {
      if (stopped) part('start', stopped);
      await db.query(
        sql`DELETE FROM user_auth WHERE user_id BETWEEN ${users[0]} AND ${users[USERS - 1]}`,
      );
      await cache.del(...users.map((u) => `permissions:user:${u}`));
      await admin.disconnect();
    }
  });
});
