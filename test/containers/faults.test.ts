/**
 * Faults that containers make natural, on this file's own stack (ports 21620-21624): the Redis
 * container paused (frozen, connections open but silent) in the middle of a stream of changes,
 * and the Kafka container stopped and started again in the middle of one. Every change's
 * invalidation must arrive: 0 lost.
 */
import type Redis from 'ioredis';
import type { ConnectionPool } from '@databases/mysql';
import { Kafka, logLevel } from 'kafkajs';
import type { RunningService } from '../../src/app/service';
import { mysqlPool, redisDb, sql, startCaughtUp, uniqId, waitFor } from '../support/stack';
import { docker, startContainerStack, type ContainerStack } from './support/containers';

const PER_PHASE = 10; // changes before, during and after the fault
const SETTLE_MS = 90_000;

describe('containers: faults lose no invalidation', () => {
  let stack: ContainerStack;
  let db: ConnectionPool;
  let cache: Redis;
  let service: RunningService;
  const users: number[] = [];

  beforeAll(async () => {
    stack = await startContainerStack(21620);
    stack.applyEnv();
    db = mysqlPool();
    cache = redisDb(1);
    service = await startCaughtUp();
  });

  afterAll(async () => {
    await service?.stop();
    if (users.length)
      await db?.query(
        sql`DELETE FROM user_auth WHERE user_id IN (${sql.join(
          users.map((u) => sql`${u}`),
          ', ',
        )})`,
      );
    await Promise.all([cache?.quit(), db?.dispose()]);
    await stack?.stop();
  });

  /** Arms one permissions key per user, then inserts a grant per user, running `fault` between phases. */
  async function stream(
    during: () => Promise<void>,
    after: () => Promise<void>,
  ): Promise<string[]> {
    const ids = Array.from({ length: 3 * PER_PHASE }, () => uniqId());
    users.push(...ids);
    const keys = ids.map((u) => `permissions:user:${u}`);
    for (const k of keys) await cache.set(k, '{"admin_user":{"read":true}}', 'EX', 900);
    expect(await cache.exists(...keys)).toBe(keys.length);
    const insert = (u: number) =>
      db.query(sql`INSERT INTO user_auth (user_id, menu_id, read_yn) VALUES (${u}, 3, 'Y')`);
    for (const u of ids.slice(0, PER_PHASE)) await insert(u);
    await during();
    for (const u of ids.slice(PER_PHASE, 2 * PER_PHASE)) await insert(u);
    await after();
    for (const u of ids.slice(2 * PER_PHASE)) await insert(u);
    return keys;
  }

  async function remaining(keys: string[]): Promise<string[]> {
    const left: string[] = [];
    for (const k of keys) if (await cache.exists(k)) left.push(k);
    return left;
  }

  it('Redis container paused mid-stream: every invalidation lands after the unpause', async () => {
    const redis = stack.id('redis');
    let paused = false;
    try {
      const keys = await stream(
        async () => {
          docker('pause', redis);
          paused = true;
        },
        async () => {
          // the service has been holding its batches against a silent Redis for a while
          await new Promise((r) => setTimeout(r, 5_000));
          docker('unpause', redis);
          paused = false;
        },
      );
      await waitFor(
        async () => (await remaining(keys)).length === 0,
        SETTLE_MS,
        'every key to go',
      ).catch(() => undefined);
      expect(await remaining(keys)).toEqual([]); // 0 invalidations lost
    } finally {
      if (paused) docker('unpause', redis);
    }
  });

  it('Kafka container stopped and started mid-stream: every invalidation lands after the restart', async () => {
    const broker = stack.id('kafka');
    const keys = await stream(
      async () => {
        docker('stop', '-t', '30', broker);
        expect(docker('inspect', '-f', '{{.State.Running}}', broker)).toBe('false');
      },
      async () => {
        await new Promise((r) => setTimeout(r, 3_000)); // changes pile up in the binlog meanwhile
        docker('start', broker);
        const admin = new Kafka({
          clientId: 'mcs-containers-fault',
          brokers: [`127.0.0.1:${stack.ports.kafka}`],
          logLevel: logLevel.NOTHING,
        }).admin();
        await waitFor(
          async () => {
            try {
              await admin.connect();
              return (await admin.listTopics()).length > 0;
            } catch {
              return false;
            }
          },
          120_000,
          'the restarted broker to answer',
          500,
        );
        await admin.disconnect();
      },
    );
    await waitFor(
      async () => (await remaining(keys)).length === 0,
      SETTLE_MS,
      'every key to go',
    ).catch(() => undefined);
    expect(await remaining(keys)).toEqual([]); // 0 invalidations lost
  });
});
