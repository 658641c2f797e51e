/**
 * Every single-broker fault kind at soak volume (`npm run test:soak`, not in CI): 100,000
 * `user_auth` changes per fault (SOAK_CHANGES) through the real Debezium path, the fault a third
 * of the way in, both keys of every changed user counted afterwards. The service is a real child
 * process, a new consumer group per fault starting at the end of the topics. One `SOAK` line per
 * fault; the leader-broker loss runs on the three-broker stack (brokers.soak.test.ts).
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { ConnectionPool } from '@databases/mysql';
import Redis from 'ioredis';
import { loadRules } from '../../src/rules/registry';
import { faultServiceEnv, sentinelRedisUrl, sentinelScript, stackPart } from '../support/faults';
import {
  buildService,
  killHard,
  startServiceProcess,
  type ServiceProcess,
} from '../support/service-process';
import {
  deleteSoakUsers,
  insertSoakUsers,
  removeKeys,
  soakFault,
  startGroupAtEnd,
  type SoakCaches,
  type SoakUsers,
} from '../support/soak';
import { mysqlPool, redisDb, uniq, waitFor } from '../support/stack';

jest.setTimeout(60 * 60 * 1000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const prefix = process.env.TOPIC_PREFIX ?? 'mis';
const topics = loadRules().tables.map((t) => `${prefix}.mis.${t}`);
const userAuth = `${prefix}.mis.user_auth`;

/** Clients of one Sentinel data node, DB 1 (permissions) and DB 0 (session). */
const nodeCaches = (port: number): SoakCaches => ({
  permissions: new Redis({ host: '127.0.0.1', port, db: 1 }),
  session: new Redis({ host: '127.0.0.1', port, db: 0 }),
});

describe('soak: 100,000 changes per fault', () => {
  let db: ConnectionPool;
  let caches: SoakCaches;
  let users: SoakUsers;
  const started: ServiceProcess[] = [];

  const start = async (group: string, extra: Record<string, string> = {}) => {
    const proc = await startServiceProcess(
      faultServiceEnv(group, { MCS_DAILY_STATS_CRON: '', ...extra }),
      180_000,
    );
    started.push(proc);
    return proc;
  };
  const alive = () =>
    started.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
  const pids = () => alive().map((p) => p.child.pid ?? 0);
  const newGroup = async (kind: string) => {
    const group = `mcs-soak-${kind}-${uniq()}`;
    await startGroupAtEnd(group, topics, userAuth);
    return group;
  };
  const ctx = (groupId: string) => ({ db, caches, users, groupId, topic: userAuth, pids });

  beforeAll(async () => {
    buildService();
    db = mysqlPool();
    caches = { permissions: redisDb(1), session: redisDb(0) };
    users = await insertSoakUsers(db, userAuth);
  });
  afterEach(async () => {
    for (const proc of alive()) await killHard(proc);
    started.splice(0);
  });
  afterAll(async () => {
    if (users) await deleteSoakUsers(db, users);
    if (users) await removeKeys(caches, users);
    await Promise.all([caches?.permissions.quit(), caches?.session.quit(), db?.dispose()]);
  });

  it('service SIGKILLed 3 times mid-stream and restarted', async () => {
    const group = await newGroup('sigkill');
    let proc = await start(group);
    let kills = 0;
    const f = await soakFault(
      ctx(group),
      'sigkill',
      async () => {
        for (let i = 0; i < 3; i++) {
          if (i > 0) await sleep(8000);
          await killHard(proc);
          kills += 1;
          proc = await start(group);
        }
      },
      () => `kills=${kills}`,
    );
    expect(kills).toBe(3);
    expect(f.present).toBe(0);
  });

  it('Redis down 20 s mid-stream (shut down with its data saved, then started again)', async () => {
    const group = await newGroup('redis');
    const proc = await start(group, { MCS_OUTAGE_REMINDER_MS: '5000' });
    const f = await soakFault(
      ctx(group),
      'redis-down',
      async () => {
        // SHUTDOWN SAVE keeps exactly what was deleted so far: a key back after the restart is one
        // whose invalidation the service had not committed yet, and must apply again.
        const admin = redisDb(0);
        const dir = ((await admin.config('GET', 'dir')) as string[])[1] ?? '';
        await admin.call('SHUTDOWN', 'SAVE').catch(() => undefined);
        admin.disconnect();
        await sleep(20_000);
        await stackPart('start', 'redis');
        rmSync(path.join(dir, 'dump.rdb'), { force: true });
      },
      () =>
        `outages logged=${proc.output().split('dependency unavailable: consumption paused').length - 1}`,
    );
    expect(proc.child.exitCode).toBeNull();
    expect(f.present).toBe(0);
  });

  it.each([['kafka'], ['connect']])('%s stopped 10 s mid-stream and restarted', async (part) => {
    const group = await newGroup(part);
    const proc = await start(group);
    const f = await soakFault(ctx(group), `${part}-restart`, async () => {
      await stackPart('stop', part);
      await sleep(10_000);
      await stackPart('start', part);
    });
    expect(proc.child.exitCode).toBeNull();
    expect(f.present).toBe(0);
  });

  it('rebalance: a second instance joins mid-stream, the first gets SIGTERM', async () => {
    const group = await newGroup('rebalance');
    const first = await start(group);
    let firstExit: number | null = -1;
    const f = await soakFault(
      ctx(group),
      'rebalance',
      async () => {
        await start(group);
        await sleep(5000);
        first.child.kill('SIGTERM');
        firstExit = await first.exited;
      },
      () => `first instance exit=${firstExit}`,
    );
    expect(firstExit).toBe(0);
    expect(f.present).toBe(0);
  });

  it('Sentinel: the Redis master SIGKILLed mid-stream, the replica promoted', async () => {
    sentinelScript('up');
    try {
      const firstMaster = Number(sentinelScript('master').trim());
      const master = nodeCaches(firstMaster);
      let promoted: SoakCaches | undefined;
      let newMaster = 0;
      const group = await newGroup('sentinel');
      await start(group, { REDIS_URL: sentinelRedisUrl(), MCS_REDIS_WAIT_REPLICAS: '1' });
      try {
        const f = await soakFault(
          {
            ...ctx(group),
            caches: master,
            // planted on the master and replicated, so the promoted replica holds them too
            armed: async () => void expect(await master.permissions.wait(1, 30_000)).toBe(1),
            checkCaches: () => (promoted ??= nodeCaches(newMaster)),
          },
          'sentinel-failover',
          async () => {
            sentinelScript('kill-master');
            await waitFor(
              () => (newMaster = Number(sentinelScript('master').trim())) !== firstMaster,
              60_000,
              'a replica to be promoted',
              250,
            );
          },
          () => `master ${firstMaster} killed → ${newMaster} promoted`,
        );
        expect(newMaster).not.toBe(firstMaster);
        expect(f.present).toBe(0);
      } finally {
        for (const c of [master, promoted])
          if (c) for (const r of [c.permissions, c.session]) r.disconnect();
      }
    } finally {
      sentinelScript('down');
    }
  });
});
