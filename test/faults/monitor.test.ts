/**
 * The consistency monitor on the real stack, against the stale-set race of cache-aside readers
 * (as in race.test.ts, on a key with a real truth: `master:products:category:{c}`, whose loader
 * is the products rule's SELECT). Readers loop { GET; on a miss run the loader SQL, wait 0–400 ms,
 * SET the JSON } while writers rename products. The monitor samples every event (share 1) and
 * checks each key at 1 s, 4 s and 8 s after the commit.
 *
 * - second pass off: inconsistencies at the 1 s window; every key left stale at the end is
 *   reported at the last window;
 * - second pass on (1000 ms): none at the windows after it (4 s, 8 s), none stale at the end;
 * - a value planted after the event and its second pass (nothing will fix it) is reported at the
 *   4 s and 8 s windows, persisting, with the event (topic/partition/offset).
 * The figures per phase are printed as MONITOR lines (docs/operations.md, Consistency monitor).
 */
import connect, { type ConnectionPool } from '@databases/mysql';
import type Redis from 'ioredis';
import { Registry } from 'prom-client';
import type { Config } from '../../src/config/config';
import { createKafka } from '../../src/intake/kafka';
import { createRowLoader, type RowLoader } from '../../src/mysql/loader';
import { ConsistencyMonitor, nines, type MonitorReport } from '../../src/consistency/monitor';
import { canonical } from '../../src/consistency/verify';
import { createRedisClients, type RedisClients } from '../../src/redis/clients';
import type { RunningService } from '../../src/app/service';
import { createLogger } from '../../src/telemetry/logger';
import {
  kafka as testKafka,
  redisDb,
  sql,
  stackEnv,
  startCaughtUp,
  testConfig,
  uniq,
  uniqId,
  waitCaughtUp,
  waitFor,
} from '../support/stack';

const K = 20; // categories, one product each
const READERS = 24;
const WRITERS = 3;
const RUN_MS = 8_000;
const READER_WAIT_MS = 400;
const WINDOWS = '1s,4s,8s';
const LOADER_SQL =
  'SELECT product_id AS id, product_name AS name, brand_id, category_id FROM products ' +
  "WHERE category_id = ? AND use_yn = 'Y' ORDER BY product_id";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const key = (c: number) => `master:products:category:${c}`;

interface Phase {
  readonly report: MonitorReport;
  readonly staleAtEnd: string[];
  readonly writes: number;
  readonly sets: number;
  readonly metrics: string;
}

describe('consistency monitor on the stale-set race', () => {
  let db: ConnectionPool;
  let cache: Redis;
  let loader: RowLoader;
  const lines: string[] = [];

  beforeAll(() => {
    db = connect({ connectionString: stackEnv('MYSQL_URL'), bigIntMode: 'number', poolSize: 24 });
    cache = redisDb(1); // master family
    loader = createRowLoader(stackEnv('MYSQL_URL'));
  });

  afterAll(async () => {
    await Promise.all([cache?.quit(), db?.dispose(), loader?.close()]);
    for (const l of lines) console.log(l);
  });

  const truth = async (c: number) => canonical(await loader.query(LOADER_SQL, [c]));

  /** Service + monitor in this process, each with its own group; `fn` runs with both up. */
  async function withPipeline<T>(
    delayMs: string,
    fn: (monitor: ConsistencyMonitor, config: Config) => Promise<T>,
  ): Promise<{ result: T; metrics: string }> {
    const config = testConfig({
      MCS_SECOND_PASS_DELAY_MS: delayMs,
      MCS_MONITOR_SAMPLE: '1',
      MCS_MONITOR_WINDOWS: WINDOWS,
      MCS_MONITOR_GROUP_ID: `mcs-test-monitor-${uniq()}`,
    });
    const logger = createLogger('warn');
    const registry = new Registry();
    let service: RunningService | undefined;
    let redis: RedisClients | undefined;
    let monitor: ConsistencyMonitor | undefined;
    try {
      service = await startCaughtUp(config);
      redis = createRedisClients(config.redis, logger);
      await redis.ready();
      monitor = new ConsistencyMonitor({
        kafka: createKafka(config.kafka, logger),
        config,
        rules: service.rules,
        ports: redis.ports,
        loader,
        logger,
        registry,
      });
      await monitor.start();
      const result = await fn(monitor, config);
      return { result, metrics: await registry.metrics() };
    } finally {
      await monitor?.stop();
      await service?.stop();
      await redis?.close();
    }
  }

  /** Waits until the service applied every products event and the monitor ran every check. */
  async function settle(monitor: ConsistencyMonitor, config: Config): Promise<void> {
    const topic = `${config.kafka.topicPrefix}.${config.kafka.database}.products`;
    await waitCaughtUp(config.kafka.groupId, [topic]);
    await waitCaughtUp(config.monitor.groupId, [topic]);
    await sleep(8_000 + 500);
    await waitFor(() => monitor.report().pending === 0, 30_000, 'the monitor checks', 100);
  }

  async function runPhase(delayMs: string): Promise<Phase> {
    const base = uniqId();
    const cats = Array.from({ length: K }, (_, i) => base + i);
    try {
      const { result, metrics } = await withPipeline(delayMs, async (monitor, config) => {
        for (const c of cats) await cache.set(key(c), 'probe', 'EX', 600);
        await db.query(
          sql`INSERT INTO products (category_id, brand_id, product_name) VALUES ${sql.join(
            cats.map((c) => sql`(${c}, 1, ${`p-${c}`})`),
            ',',
          )}`,
        );
        await waitFor(
          async () => (await cache.exists(...cats.map(key))) === 0,
          15_000,
          'the insert events',
        );
        await sleep(Number(delayMs) + 500);
        let writes = 0;
        let sets = 0;
        let stopWriters = false;
        let stopReaders = false;
        const pick = () => cats[Math.floor(Math.random() * cats.length)] as number;
        const reader = async () => {
          while (!stopReaders) {
            const c = pick();
            if ((await cache.get(key(c))) === null) {
              const value = JSON.stringify(await loader.query(LOADER_SQL, [c]));
              await sleep(Math.random() * READER_WAIT_MS);
              await cache.set(key(c), value, 'EX', 3600);
              sets++;
            } else await sleep(Math.random() * 10);
          }
        };
        const writer = async () => {
          while (!stopWriters) {
            await db.query(
              sql`UPDATE products SET product_name = ${`p-${uniq()}`} WHERE category_id = ${pick()}`,
            );
            writes++;
            await sleep(Math.random() * 20);
          }
        };
        const readers = Array.from({ length: READERS }, reader);
        const writersDone = Promise.all(Array.from({ length: WRITERS }, writer));
        await sleep(RUN_MS);
        stopWriters = true;
        await writersDone;
        stopReaders = true;
        await Promise.all(readers);
        await settle(monitor, config);
        const staleAtEnd: string[] = [];
        for (const c of cats) {
          const cached = await cache.get(key(c));
          if (cached !== null && canonical(JSON.parse(cached)) !== (await truth(c)))
            staleAtEnd.push(key(c));
        }
        return { report: monitor.report(), staleAtEnd, writes, sets };
      });
      return { ...result, metrics };
    } finally {
      await db.query(sql`DELETE FROM products WHERE category_id BETWEEN ${base} AND ${base + K}`);
      await cache.del(...cats.map(key));
    }
  }

  function describePhase(name: string, p: Phase): void {
    const w = p.report.windows
      .map((t) => {
        const n = nines(t.checks, t.inconsistent);
        return `${t.window} ${t.inconsistent}/${t.checks} inconsistent (${n === undefined ? '-' : n.toFixed(2)} nines, ${t.unjudged} not judged)`;
      })
      .join('; ');
    lines.push(
      `MONITOR second pass ${name}: ${p.report.sampledEvents} events, ${p.writes} writes, ${p.sets} reader SETs; ${w}; stale at the end ${p.staleAtEnd.length}/${K}`,
    );
  }

  it('second pass off: inconsistencies at 1 s; every key left stale is reported at the last window', async () => {
    const p = await runPhase('0');
    describePhase('off', p);
    const [w1, , w8] = p.report.windows;
    expect(p.writes).toBeGreaterThan(100);
    expect(w1?.checks).toBeGreaterThan(20); // most checks are superseded by a newer write of the key
    expect(w1?.inconsistent).toBeGreaterThan(0);
    expect(p.staleAtEnd.length).toBeGreaterThan(0); // the race happened (race.test.ts: 5–19 of 40)
    const reportedLast = new Set(
      p.report.inconsistencies.filter((i) => i.window === w8?.window).map((i) => i.key),
    );
    for (const k of p.staleAtEnd) expect(reportedLast).toContain(k);
    expect(p.metrics).toMatch(
      /mis_cache_sync_monitor_inconsistencies_total\{window="1s",family="master"\} [1-9]/,
    );
    expect(p.metrics).toMatch(/mis_cache_sync_monitor_consistency_nines\{window="1s"\} \d/);
  });

  it('second pass on: nothing inconsistent at the windows after it', async () => {
    const p = await runPhase('1000');
    describePhase('on', p);
    const [w1, w4, w8] = p.report.windows;
    expect(p.writes).toBeGreaterThan(100);
    expect(w1?.checks).toBeGreaterThan(20); // most checks are superseded by a newer write of the key
    expect(w4?.checks).toBeGreaterThan(0);
    expect(w4?.inconsistent).toBe(0);
    expect(w8?.inconsistent).toBe(0);
    expect(p.staleAtEnd).toEqual([]);
  });

  it('a stale value planted after the event and its second pass is reported as persisting, with its event', async () => {
    const c = uniqId();
    const admin = testKafka().admin();
    await admin.connect();
    try {
      const { result } = await withPipeline('1000', async (monitor, config) => {
        const topic = `${config.kafka.topicPrefix}.${config.kafka.database}.products`;
        await db.query(
          sql`INSERT INTO products (category_id, brand_id, product_name) VALUES (${c}, 1, 'old name')`,
        );
        const old = JSON.stringify(await loader.query(LOADER_SQL, [c]));
        await waitCaughtUp(config.kafka.groupId, [topic]);
        await sleep(1500);
        const before = await admin.fetchTopicOffsets(topic);
        await cache.set(key(c), old, 'EX', 600);
        await db.query(sql`UPDATE products SET product_name = 'new name' WHERE category_id = ${c}`);
        await waitFor(async () => (await cache.exists(key(c))) === 0, 15_000, 'the invalidation');
        await sleep(2_000); // past the second pass (1 s): nothing will delete it again
        await cache.set(key(c), old, 'EX', 600); // the stale set nobody fixes
        await settle(monitor, config);
        return { report: monitor.report(), before };
      });
      const found = result.report.inconsistencies.filter((i) => i.key === key(c));
      expect(found.map((i) => [i.window, i.persisting])).toEqual([
        ['4s', false],
        ['8s', true],
      ]);
      const place = found[1]?.place;
      const partitionStart = result.before.find((p) => p.partition === place?.partition);
      expect(place?.topic).toMatch(/\.products$/);
      expect(BigInt(place?.offset ?? -1)).toBeGreaterThanOrEqual(BigInt(partitionStart?.high ?? 0));
      lines.push(
        `MONITOR planted stale value: reported at ${found.map((i) => `${i.window}${i.persisting ? ' (persisting)' : ''}`).join(', ')} with event ${place?.topic}/${place?.partition}@${place?.offset}`,
      );
    } finally {
      await admin.disconnect();
      await db.query(sql`DELETE FROM products WHERE category_id = ${c}`);
      await cache.del(key(c));
    }
  });
});
