/**
 * Handles on the real local stack for integration tests: per-DB Redis clients, a MariaDB pool,
 * Kafka admin helpers, and the service started in-process with a consumer group of its own.
 * Everything a test opens it closes with `close()`.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import connect, { sql, type ConnectionPool } from '@databases/mysql';
import Redis, { type RedisOptions } from 'ioredis';
import { Kafka, logLevel, type Admin, type ITopicConfig, type SASLOptions } from 'kafkajs';
import { loadConfig, type Config } from '../../src/config/config';
import { withTls } from '../../src/mysql/loader';
import { SECOND_PASS_KEY } from '../../src/keys/second-pass';
import { startService, type RunningService } from '../../src/app/service';
import { createLogger } from '../../src/telemetry/logger';

export { sql };

export function stackEnv(
  name: 'MYSQL_URL' | 'REDIS_URL' | 'KAFKA_BROKERS' | 'TOPIC_PREFIX',
): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the integration global setup did not run`);
  return value;
}

/** A short unique suffix for ids, group names and key prefixes owned by one test. */
export function uniq(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** A numeric id unlikely to collide with seed rows or other tests (seed ids are < 1000). */
export function uniqId(): number {
  return 100_000 + Math.floor(Math.random() * 800_000_000);
}

/**
 * The application's credentials when the stack provides them (STACK_SECURE=1: APP_REDIS_URL,
 * APP_MYSQL_URL), else the stack's one URL: tests write rows and cache entries as MIS does.
 */
export function appRedisUrl(): string {
  return process.env.APP_REDIS_URL || stackEnv('REDIS_URL');
}
export function appMysqlUrl(): string {
  return process.env.APP_MYSQL_URL || stackEnv('MYSQL_URL');
}

/** TLS options of a `rediss://` URL, verified against the stack's CA. */
export function redisTls(url: string): Pick<RedisOptions, 'tls'> {
  if (!url.startsWith('rediss:')) return {};
  const ca = process.env.MCS_REDIS_TLS_CA_FILE;
  return { tls: ca ? { ca: readFileSync(ca, 'utf8') } : {} };
}

export function redisDb(db: number, options: RedisOptions = {}): Redis {
  const url = appRedisUrl();
  return new Redis(url, {
    db,
    lazyConnect: false,
    maxRetriesPerRequest: 2,
    ...redisTls(url),
    ...options,
  });
}

export function mysqlPool(): ConnectionPool {
  const ca = process.env.MCS_MYSQL_TLS_CA_FILE ?? '';
  return connect({
    connectionString: withTls(appMysqlUrl(), { enabled: ca !== '', caFile: ca }),
    bigIntMode: 'number',
    poolSize: 2,
  });
}

/** A Kafka client with the service's TLS and SASL settings from the environment (if any). */
export function kafka(): Kafka {
  const env = process.env;
  const ca = env.MCS_KAFKA_SSL_CA_FILE;
  const ssl = /^(true|1|yes|on)$/i.test(env.MCS_KAFKA_SSL ?? '')
    ? ca
      ? { ca: [readFileSync(ca, 'utf8')] }
      : true
    : undefined;
  const sasl = env.MCS_KAFKA_SASL_MECHANISM
    ? ({
        mechanism: env.MCS_KAFKA_SASL_MECHANISM,
        username: env.MCS_KAFKA_SASL_USERNAME ?? '',
        password: env.MCS_KAFKA_SASL_PASSWORD ?? '',
      } as SASLOptions)
    : undefined;
  return new Kafka({
    clientId: `mcs-test-${uniq()}`,
    brokers: stackEnv('KAFKA_BROKERS').split(','),
    logLevel: logLevel.NOTHING,
    ...(ssl ? { ssl } : {}),
    ...(sasl ? { sasl } : {}),
  });
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    env: {
      ...process.env,
      MCS_GROUP_ID: `mis-cache-sync-test-${uniq()}`, // the secure stack's ACL: mis-cache-sync*
      LOG_LEVEL: 'warn',
      MCS_STATS_INTERVAL_MS: '0',
      MCS_HTTP_PORT: '0', // several services run at once in tests: no fixed port
      ...overrides,
    },
  });
}

/** Starts the service in this process and waits until it has caught up with every topic. */
export async function startCaughtUp(config: Config = testConfig()): Promise<RunningService> {
  const service = await startService(config, createLogger(config.log.level));
  const topics = service.rules.tables.map(
    (t) => `${config.kafka.topicPrefix}.${config.kafka.database}.${t}`,
  );
  await waitCaughtUp(config.kafka.groupId, topics);
  await settleSecondPasses(config);
  return service;
}

/**
 * Pending second passes are kept in Redis across services (a restart loses none), so a pass an
 * earlier test's service scheduled, or this one scheduled while catching up on earlier tests'
 * events (a menus change re-deletes `permissions:user:*`), would otherwise run in the middle of
 * this test and delete the keys it just set. Wait until the service has applied them; a service
 * without a second pass would leave them for a later one: they are dropped.
 */
async function settleSecondPasses(config: Config): Promise<void> {
  if (config.redis.cluster) return;
  const url = config.redis.url;
  const temp = new Redis(url, {
    db: config.redis.db.temp,
    maxRetriesPerRequest: 2,
    ...redisTls(url),
  });
  try {
    if (config.redis.secondPassDelayMs === 0) {
      await temp.unlink(SECOND_PASS_KEY);
      return;
    }
    // ZRANGEBYSCORE, not ZCARD: the commands the service's own ACL allows (secure stack).
    const pending = () => temp.zrangebyscore(SECOND_PASS_KEY, '-inf', '+inf', 'LIMIT', 0, 1);
    await waitFor(
      async () => (await pending()).length === 0,
      30_000,
      'the pending second passes to be applied',
      50,
    );
  } finally {
    temp.disconnect();
  }
}

/** Sum of the partitions' end offsets: where the next records of the topic will land. */
export async function endOffsets(topic: string): Promise<number> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((n, o) => n + Number(o.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Resolves when the group's committed offsets reach the end of every partition of the topics. */
export async function waitCaughtUp(
  groupId: string,
  topics: string[],
  timeoutMs = 60_000,
): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    await waitFor(
      async () => {
        for (const topic of topics) {
          const ends = await admin.fetchTopicOffsets(topic);
          const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
          for (const end of ends) {
            if (end.high === end.low) continue; // empty partition: nothing to catch up
            const c = committed?.partitions.find((p) => p.partition === end.partition);
            if (!c || BigInt(c.offset) < BigInt(end.high)) return false;
          }
        }
        return true;
      },
      timeoutMs,
      `group ${groupId} to catch up with ${topics.join(', ')}`,
    );
  } finally {
    await admin.disconnect();
  }
}

/** Polls until the check holds; fails with the description after the timeout. */
export async function waitFor(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
  intervalMs = 20,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Creates the topics and waits until every partition has a leader. kafkajs's own
 * `waitForLeaders` retries only LEADER_NOT_AVAILABLE, while a KRaft broker may still answer
 * UNKNOWN_TOPIC_OR_PARTITION for a topic it created a moment ago, which fails the set-up.
 */
export async function createTopicsReady(admin: Admin, topics: ITopicConfig[]): Promise<void> {
  await admin.createTopics({ topics, waitForLeaders: false });
  const names = topics.map((t) => t.topic);
  await waitFor(
    async () => {
      try {
        const meta = await admin.fetchTopicMetadata({ topics: names });
        return topics.every((t) => {
          const m = meta.topics.find((x) => x.name === t.topic);
          const want = t.numPartitions ?? 1;
          return (
            m !== undefined &&
            m.partitions.length >= want &&
            m.partitions.every((p) => p.leader >= 0)
          );
        });
      } catch {
        return false; // not known to the broker yet
      }
    },
    30_000,
    `leaders for ${names.join(', ')}`,
    100,
  );
}

/** A TCP port free on 127.0.0.1 right now (for a scratch server a test starts itself). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
