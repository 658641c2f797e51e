/**
 * replay on the real stack: changes made while no service ran are re-applied from the retained
 * topics; --dry-run lists them and touches nothing; --reset-group refuses a group with live
 * members. The test's keys live in logical DBs of their own (6 and 7).
 */
import type { ConnectionPool } from '@databases/mysql';
import type Redis from 'ioredis';
import type { Config } from '../../../src/config/config';
import { createKafka } from '../../../src/intake/kafka';
import { createRedisClients } from '../../../src/redis/clients';
import { startKeyExecutor } from '../../../src/keys/executor-setup';
import type { ProgressSink } from '../../../src/ops/progress';
import { replay } from '../../../src/ops/replay';
import { loadRules } from '../../../src/rules/registry';
import { silentLogger } from '../../../src/telemetry/logger';
import {
  kafka,
  mysqlPool,
  redisDb,
  sql,
  startCaughtUp,
  testConfig,
  uniqId,
  waitFor,
} from '../../support/stack';

const quiet: ProgressSink = { update: () => undefined, finish: () => undefined };

describe('replay', () => {
  let db: ConnectionPool;
  let perms: Redis;
  let config: Config;
  const rules = loadRules();

  beforeAll(() => {
    db = mysqlPool();
    perms = redisDb(7);
    config = testConfig({ MCS_REDIS_DB_PERMISSIONS: '7', MCS_REDIS_DB_SESSION: '6' });
  });
  afterAll(async () => {
    await Promise.all([perms.quit(), db.dispose()]);
  });

  async function topicEnd(topic: string): Promise<number> {
    const admin = kafka().admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    return offsets.reduce((n, p) => n + Number(p.high), 0);
  }

  it('re-applies changes made while no service ran; dry-run lists them and touches nothing', async () => {
    const topic = `${config.kafka.topicPrefix}.mis.user_auth`;
    const users = Array.from({ length: 5 }, () => uniqId());
    const keys = users.map((u) => `permissions:user:${u}`);
    for (const k of keys) await perms.set(k, '{"cached":true}', 'EX', 600);
    const before = await topicEnd(topic);
    const from = new Date(Date.now() - 1000);
    for (const u of users)
      await db.query(sql`INSERT INTO user_auth (user_id, menu_id) VALUES (${u}, 4)`);
    await waitFor(
      async () => (await topicEnd(topic)) >= before + users.length,
      30_000,
      'the changes on the topic',
    );

    const k = createKafka(config.kafka, silentLogger());
    const dry = await replay(
      { kafka: k, config, rules, logger: silentLogger(), progress: quiet },
      { from, tables: ['user_auth'], dryRun: true, resetGroup: false },
    );
    expect(dry.planned?.map((o) => o.key)).toEqual(expect.arrayContaining(keys));
    expect(dry.operations).toBe(dry.planned?.length); // dry run: the distinct operations
    expect(await perms.exists(...keys)).toBe(keys.length);

    const redis = createRedisClients(config.redis, silentLogger());
    await redis.ready();
    // the CLI's set-up (the service's): executor with the pattern index
    const { executor, patterns } = await startKeyExecutor({
      config: config.redis,
      rules,
      clients: redis,
      loader: undefined,
      logger: silentLogger(),
    });
    try {
      const report = await replay(
        { kafka: k, config, rules, executor, logger: silentLogger(), progress: quiet },
        { from, tables: ['user_auth'], dryRun: false, resetGroup: false },
      );
      expect(report.events).toBeGreaterThanOrEqual(users.length);
      expect(report.deleted).toBeGreaterThanOrEqual(keys.length);
      // applied: each batch's distinct operations, summed; no list kept
      expect(report.operations).toBeGreaterThanOrEqual(dry.operations);
      expect(report.planned).toBeUndefined();
      expect(await perms.exists(...keys)).toBe(0);
    } finally {
      await patterns.close();
      await redis.close();
      await db.query(
        sql`DELETE FROM user_auth WHERE menu_id = 4 AND user_id IN (${sql.join(
          users.map((u) => sql`${u}`),
          ', ',
        )})`,
      );
    }
  });

  it('--reset-group refuses while the group has live members, then moves the offsets back', async () => {
    const service = await startCaughtUp(config);
    const k = createKafka(config.kafka, silentLogger());
    const deps = { kafka: k, config, rules, logger: silentLogger(), progress: quiet };
    const options = {
      from: 'earliest' as const,
      tables: ['brands'],
      dryRun: false,
      resetGroup: true,
    };
    await expect(replay(deps, options)).rejects.toThrow(
      /has 1 live member\(s\): stop every mis-cache-sync instance/,
    );
    await service.stop();
    const report = await replay(deps, options);
    expect(report.mode).toBe('group reset');
    const admin = kafka().admin();
    await admin.connect();
    const [offsets] = await admin.fetchOffsets({
      groupId: config.kafka.groupId,
      topics: [`${config.kafka.topicPrefix}.mis.brands`],
    });
    const low = await admin.fetchTopicOffsets(`${config.kafka.topicPrefix}.mis.brands`);
    await admin.disconnect();
    expect(offsets?.partitions.map((p) => p.offset)).toEqual(low.map((p) => p.low));
  });
});
