/**
 * The metrics and health endpoint and the Redis startup checks on the real stack: a row change
 * shows in /metrics (events, both latency histograms, keys per family, Redis INFO gauges),
 * /readyz follows the consumer group and Redis, /healthz answers even while Redis is down at
 * start; a missing logical DB stops the start naming its setting, memory settings are warned
 * about, and a Redis refusing CONFIG only skips those checks.
 */
import { request } from 'node:http';
import type { ConnectionPool } from '@databases/mysql';
import Redis from 'ioredis';
import { runStartupChecks } from '../../../src/preflight/redis-startup';
import { startService, type RunningService } from '../../../src/app/service';
import { createLogger } from '../../../src/telemetry/logger';
import { startScratchRedis, type ScratchRedis } from '../../support/scratch-redis';
import {
  freePort,
  mysqlPool,
  redisDb,
  sql,
  testConfig,
  uniqId,
  waitCaughtUp,
  waitFor,
} from '../../support/stack';

interface Reply {
  status: number;
  body: string;
}

function get(port: number | undefined, path: string): Promise<Reply> {
  if (port === undefined) throw new Error('the endpoint is not listening');
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The value of one series in Prometheus text; 0 when absent. */
function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/** Log lines (pino JSON) written by a service under test. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = { write: (s: string) => void lines.push(JSON.parse(s)) };
  return { lines, logger: createLogger('info', stream) };
}

describe('metrics and health endpoint on the real stack', () => {
  let db: ConnectionPool;
  let cache: Redis;
  let service: RunningService | undefined;
  let log: ReturnType<typeof capture>;

  beforeAll(async () => {
    db = mysqlPool();
    cache = redisDb(1);
    const config = testConfig({ MCS_HTTP_PORT: '0' });
    log = capture();
    service = await startService(config, log.logger);
    const { topicPrefix, database } = config.kafka;
    const topics = service.rules.tables.map((t) => `${topicPrefix}.${database}.${t}`);
    await waitCaughtUp(config.kafka.groupId, topics);
  });
  afterAll(async () => {
    await service?.stop();
    await Promise.all([cache?.quit(), db?.dispose()]);
  });

  it('binds an ephemeral port; /healthz 200, /readyz 200 once joined and Redis answers', async () => {
    expect(service?.httpPort).toBeGreaterThan(0);
    expect((await get(service?.httpPort, '/healthz')).status).toBe(200);
    const ready = await get(service?.httpPort, '/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({
      status: 'ready',
      kafka: { ok: true, state: 'joined' },
      redis: { ok: true, connections: expect.arrayContaining([{ name: 'db 1', ok: true }]) },
    });
  });

  it('warns once about the stack Redis allkeys-lru policy (maxmemory is set there)', () => {
    const warnings = log.lines.filter((l) => /^redis: /.test(String(l.msg)));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, policy: 'allkeys-lru' });
    expect(String(warnings[0]?.msg)).toMatch(/evict any key, including locks/);
  });

  it('a user_auth insert shows in the event counter, both latency histograms and per-family keys', async () => {
    const port = service?.httpPort;
    const before = (await get(port, '/metrics')).body;
    const events = 'mis_cache_sync_events_total{table="user_auth",op="c"}';
    const commit = 'mis_cache_sync_commit_to_redis_seconds_count{table="user_auth"}';
    const append = 'mis_cache_sync_kafka_to_redis_seconds_count{table="user_auth"}';
    const deleted = 'mis_cache_sync_keys_deleted_total{family="permissions"}';

    const user = uniqId();
    await cache.set(`permissions:user:${user}`, '{}', 'EX', 600);
    await db.query(sql`INSERT INTO user_auth (user_id, menu_id, read_yn) VALUES (${user}, 1, 'Y')`);
    await waitFor(
      async () => (await cache.exists(`permissions:user:${user}`)) === 0,
      15_000,
      'the insert to be applied',
      10,
    );
    let after = '';
    await waitFor(
      async () => {
        after = (await get(port, '/metrics')).body;
        return value(after, append) > value(before, append);
      },
      5000,
      'the histograms to observe the event',
    );
    expect(value(after, events)).toBeGreaterThan(value(before, events));
    expect(value(after, commit)).toBeGreaterThan(value(before, commit));
    expect(value(after, commit)).toBeGreaterThan(0);
    expect(value(after, append)).toBeGreaterThan(0);
    expect(value(after, deleted)).toBeGreaterThanOrEqual(value(before, deleted) + 1);
    expect(service?.counters.get('events', 'user_auth:c')).toBeGreaterThan(0);
    expect(after).toMatch(
      /^mis_cache_sync_consumer_lag\{topic="[^"]+\.user_auth",partition="0"\} \d+$/m,
    );
    expect(value(after, 'mis_cache_sync_consumer_group_joined')).toBe(1);
    expect(after).toMatch(/^mis_cache_sync_dead_letters_pending \d+$/m); // counted on the broker

    // Redis INFO, read at scrape time
    const server = /mis_cache_sync_redis_up\{server="([^"]+)"\} 1/.exec(after)?.[1];
    expect(server).toBeDefined();
    for (const name of [
      'used_memory_bytes',
      'keyspace_hit_ratio',
      'evicted_keys_total',
      'expired_keys_total',
    ]) {
      expect(after).toMatch(
        new RegExp(`^mis_cache_sync_redis_${name}\\{server="${server}"\\} [0-9.e+-]+$`, 'm'),
      );
    }
    const ratio = value(after, `mis_cache_sync_redis_keyspace_hit_ratio{server="${server}"}`);
    expect(ratio).toBeGreaterThanOrEqual(0);
    expect(ratio).toBeLessThanOrEqual(1);
    expect(value(after, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    await db.query(sql`DELETE FROM user_auth WHERE user_id = ${user}`);
  });
});

describe('Redis down at start', () => {
  it('/healthz answers 200 and /readyz 503 (Redis not ready) while the start waits', async () => {
    const closed = await freePort();
    const config = testConfig({
      MCS_HTTP_PORT: '0',
      REDIS_URL: `redis://127.0.0.1:${closed}`,
      LOG_LEVEL: 'silent',
    });
    const abort = new AbortController();
    let port: number | undefined;
    const starting = startService(config, createLogger('silent'), {
      signal: abort.signal,
      onHttpListening: (p) => (port = p),
    });
    starting.catch(() => undefined);
    try {
      await waitFor(() => port !== undefined, 10_000, 'the endpoint to listen');
      expect((await get(port, '/healthz')).status).toBe(200);
      const ready = await get(port, '/readyz');
      expect(ready.status).toBe(503);
      const body = JSON.parse(ready.body);
      expect(body).toMatchObject({
        status: 'not ready',
        kafka: { ok: false, state: 'starting' },
        redis: { ok: false },
      });
      expect(body.redis.connections.length).toBeGreaterThan(0);
      expect(body.redis.connections.every((c: { ok: boolean }) => !c.ok)).toBe(true);
      const metrics = await get(port, '/metrics');
      expect(metrics.status).toBe(200);
      expect(value(metrics.body, `mis_cache_sync_redis_up{server="127.0.0.1:${closed}"}`)).toBe(0);
    } finally {
      abort.abort();
      await expect(starting).rejects.toThrow(/given up while waiting for Redis/);
    }
    await expect(get(port, '/healthz')).rejects.toThrow(/ECONNREFUSED/); // closed with the start
  });
});

describe('startup checks against a Redis of its own', () => {
  let redis: ScratchRedis;
  let port: number;

  beforeAll(async () => {
    // 2 DBs only, no maxmemory: what the checks must catch
    redis = await startScratchRedis(['--databases', '2']);
    port = redis.port;
    await redis.probe.call('ACL', 'SETUSER', 'noconfig', 'on', '>pw', '~*', '+@all', '-config');
  });
  afterAll(() => redis.stop());

  it('a family DB the server does not have stops the start, naming the setting', async () => {
    const config = testConfig({
      MCS_HTTP_PORT: '0',
      REDIS_URL: `redis://127.0.0.1:${port}`,
      MCS_REDIS_DB_TEMP: '2', // the server has DBs 0 and 1
    });
    const log = capture();
    await expect(startService(config, log.logger)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(
        /^MCS_REDIS_DB_TEMP \(redis\.db\.temp\): logical DB 2 is not available on the Redis server \(the server has 2: 0 to 1\)/,
      ),
    });
  });

  it('maxmemory 0 is warned about once; a Redis refusing CONFIG GET only skips the checks', async () => {
    const config = testConfig({ REDIS_URL: `redis://127.0.0.1:${port}` });
    const redisConfig = { ...config.redis, db: { ...config.redis.db, temp: 1 } };
    const open = new Redis({ port, host: '127.0.0.1', db: 1 });
    const limited = new Redis({ port, host: '127.0.0.1', username: 'noconfig', password: 'pw' });
    try {
      const first = capture();
      await runStartupChecks([open], redisConfig, first.logger);
      const warnings = first.lines.filter((l) => l.level === 40);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ policy: 'noeviction', maxmemory: 0 });
      expect(String(warnings[0]?.msg)).toMatch(/maxmemory is 0/);

      const second = capture();
      await runStartupChecks([limited], redisConfig, second.logger);
      expect(second.lines.filter((l) => l.level === 40)).toEqual([]);
      expect(second.lines).toEqual([
        expect.objectContaining({
          level: 30,
          msg: 'redis memory checks skipped: CONFIG GET refused',
          error: expect.stringMatching(/NOPERM/),
        }),
      ]);
    } finally {
      open.disconnect();
      limited.disconnect();
    }
  });
});
