/**
 * Leader-broker loss at soak volume (`npm run test:soak:brokers`: the three-broker stack in
 * `.stack-brokers`, not in CI): 100,000 `user_auth` changes (SOAK_CHANGES) through the real
 * Debezium path over six partitions with replication factor 3; a third of the way in, the broker
 * leading the busiest partition is stopped and stays down until every key is counted. One
 * `SOAK` line, as in faults.soak.test.ts.
 */
import type { ConnectionPool } from '@databases/mysql';
import { loadRules } from '../../src/rules/registry';
import { faultServiceEnv, stackPart } from '../support/faults';
import { buildService, killHard, startServiceProcess } from '../support/service-process';
import {
  deleteSoakUsers,
  insertSoakUsers,
  removeKeys,
  soakFault,
  startGroupAtEnd,
  type SoakCaches,
  type SoakUsers,
} from '../support/soak';
import { kafka, mysqlPool, redisDb, uniq, waitFor } from '../support/stack';

jest.setTimeout(60 * 60 * 1000);

const prefix = process.env.TOPIC_PREFIX ?? 'mis';
const topics = loadRules().tables.map((t) => `${prefix}.mis.${t}`);
const userAuth = `${prefix}.mis.user_auth`;

describe('soak on three brokers: 100,000 changes, the leader of the busiest partition lost', () => {
  let db: ConnectionPool;
  let caches: SoakCaches;
  let users: SoakUsers;

  beforeAll(async () => {
    if (process.env.STACK_KAFKA_BROKERS !== '3')
      throw new Error('run with `npm run test:soak:brokers` (STACK_KAFKA_BROKERS=3)');
    buildService();
    db = mysqlPool();
    caches = { permissions: redisDb(1), session: redisDb(0) };
    users = await insertSoakUsers(db, userAuth);
  });
  afterAll(async () => {
    if (users) await deleteSoakUsers(db, users);
    if (users) await removeKeys(caches, users);
    await Promise.all([caches?.permissions.quit(), caches?.session.quit(), db?.dispose()]);
  });

  it('0 invalidations lost, no manual action', async () => {
    const group = `mcs-soak-brokers-${uniq()}`;
    await startGroupAtEnd(group, topics, userAuth);
    const proc = await startServiceProcess(
      faultServiceEnv(group, { MCS_SESSION_TIMEOUT_MS: '10000', MCS_DAILY_STATS_CRON: '' }),
      180_000,
    );
    const admin = kafka().admin();
    await admin.connect();
    let stopped = '';
    let partition = -1;
    let leader = -1;
    let newLeader = -1;
    try {
      const f = await soakFault(
        {
          db,
          caches,
          users,
          groupId: group,
          topic: userAuth,
          pids: () => (proc.child.exitCode === null ? [proc.child.pid ?? 0] : []),
        },
        'leader-loss',
        async () => {
          // The busiest partition so far; its leader is the broker to stop.
          const offsets = await admin.fetchTopicOffsets(userAuth);
          const busiest = offsets.reduce((a, b) =>
            Number(b.high) - Number(b.low) > Number(a.high) - Number(a.low) ? b : a,
          );
          partition = busiest.partition;
          const leaderOf = async () =>
            (await admin.fetchTopicMetadata({ topics: [userAuth] })).topics[0]?.partitions.find(
              (p) => p.partitionId === partition,
            )?.leader ?? -1;
          leader = await leaderOf();
          stopped = leader === 1 ? 'kafka' : `kafka${leader}`;
          await stackPart('stop', stopped);
          await waitFor(
            async () => ![leader, -1].includes((newLeader = await leaderOf().catch(() => -1))),
            120_000,
            `a new leader of ${userAuth}-${partition}`,
            500,
          );
        },
        () => `partition ${partition} leader broker ${leader} (${stopped}) stopped → ${newLeader}`,
      );
      expect(newLeader).not.toBe(leader);
      expect(proc.child.exitCode).toBeNull();
      expect(f.present).toBe(0);
    } finally {
      if (stopped) await stackPart('start', stopped);
      await admin.disconnect();
      if (proc.child.exitCode === null) await killHard(proc);
    }
  });
});
