/**
 * Throughput benchmark of the whole service (Kafka → decode → plan → Redis → commit) on the
 * local stack, plus a Kafka/Redis-free measurement of decode + plan alone.
 *
 *   npm run bench -- --events 200000 [--mode all|service|plan] [--users 50000] [--brands 20]
 *                    [--orders-share 0.045] [--brands-share 0.005] [--plan-batch 500]
 *                    [--redis-db-base 10] [--timeout-s 900] [--seed 42] [--no-write]
 *                    [--format json|avro]
 *
 * Isolation: topics `bench<time>.mis.<table>` of its own, a fresh consumer group, and Redis
 * logical DBs of its own (default 10/11/12 in place of 0/1/2, same family → DB grouping), so
 * neither the Debezium topics nor the keys of tests and demos are touched. Everything it
 * creates (topics, group, keys) is removed at the end; keys also carry a 1 h TTL.
 */
import { execSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Redis from 'ioredis';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { loadConfig, type Config } from '../src/config/config';
import { parseJson } from '../src/envelope/decode';
import type { RawRecord } from '../src/envelope/types';
import type { SchemaSource } from '../src/envelope/avro';
import { planBatch, type BatchContext } from '../src/intake/batch-plan';
import { SchemaRegistry } from '../src/registry/client';
import { DEFAULT_CONSUMERS_DIR, loadRules } from '../src/rules/registry';
import { startService } from '../src/app/service';
import { createLogger } from '../src/telemetry/logger';
import {
  BENCH_TABLES,
  HEADERS,
  generateEvents,
  orderDays,
  type BenchTable,
  type GeneratedEvent,
  type MixOptions,
} from './generate';
import { avroEncoder, type AvroEncoder } from './avro-format';
import { REPO, TopicBatcher, appendResult, runMain, benchRedisDbs } from './support';

const DATABASE = 'mis';
const PARTITIONS = 3;

// ---- options --------------------------------------------------------------------------------

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    mode: { type: 'string', default: 'all' },
    format: { type: 'string', default: 'json' },
    users: { type: 'string', default: '50000' },
    brands: { type: 'string', default: '20' },
    'orders-share': { type: 'string', default: '0.045' },
    'brands-share': { type: 'string', default: '0.005' },
    'plan-batch': { type: 'string', default: '500' },
    'redis-db-base': { type: 'string', default: '10' },
    'timeout-s': { type: 'string', default: '900' },
    seed: { type: 'string', default: '42' },
    'no-write': { type: 'boolean', default: false },
  },
  strict: true,
});

function num(name: keyof typeof args, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(args[name]);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new Error(`--${name} must be a number in [${min}, ${max}], got ${String(args[name])}`);
  }
  return n;
}

const MODE = String(args.mode);
// json: JSON converter with schemas; avro: the same events as Confluent-framed Avro (Avro stack)
const FORMAT = String(args.format);
if (FORMAT !== 'json' && FORMAT !== 'avro') throw new Error('--format must be json or avro');
let encoder: AvroEncoder | undefined;
/** The generator's events in the chosen format. */
function* benchEvents(mix: MixOptions): Generator<GeneratedEvent> {
  for (const e of generateEvents(mix)) yield encoder ? encoder.encode(e) : e;
}
if (!['all', 'service', 'plan'].includes(MODE)) throw new Error('--mode: all, service or plan');
const MIX: MixOptions = {
  events: Math.floor(num('events', 1)),
  users: Math.floor(num('users', 1)),
  brands: Math.floor(num('brands', 1, 100_000)),
  ordersShare: num('orders-share', 0, 1),
  brandsShare: num('brands-share', 0, 1),
  seed: Math.floor(num('seed', 0)),
};
if (MIX.ordersShare + MIX.brandsShare > 1) throw new Error('orders + brands share exceed 1');
const PLAN_BATCH = Math.floor(num('plan-batch', 1));
const DB_BASE = Math.floor(num('redis-db-base', 0, 13));
const TIMEOUT_MS = num('timeout-s', 1) * 1000;
const PREFIX = `bench${Date.now().toString(36)}`;
const GROUP = `mcs-bench-${PREFIX}`;
const DB = { session: DB_BASE, permissions: DB_BASE + 1, temp: DB_BASE + 2 };

// ---- helpers -------------------------------------------------------------------------------

const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const round = (n: number, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits;
const topicOf = (table: string) => `${PREFIX}.${DATABASE}.${table}`;
const log = (msg: string) =>
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) g();
}

/** The service's rules are loaded from the compiled consumers folder; YAML rules are not
 * compiled by tsc, so bring them next to the .js files. */
function syncYamlRules(): void {
  const src = path.join(REPO, 'consumers');
  if (!existsSync(DEFAULT_CONSUMERS_DIR)) mkdirSync(DEFAULT_CONSUMERS_DIR, { recursive: true });
  for (const file of readdirSync(src)) {
    if (/\.ya?ml$/.test(file))
      copyFileSync(path.join(src, file), path.join(DEFAULT_CONSUMERS_DIR, file));
  }
}

function benchConfig(): Config {
  return loadConfig({
    cwd: REPO,
    env: {
      ...process.env,
      TOPIC_PREFIX: PREFIX,
      MYSQL_DATABASE: DATABASE,
      MCS_GROUP_ID: GROUP,
      MCS_CLIENT_ID: 'mcs-bench',
      MCS_FROM_BEGINNING: 'true',
      MCS_ENSURE_TOPICS: 'false',
      MCS_REFRESH_FAMILIES: '',
      MCS_CONSUMERS_DIR: '',
      MCS_DAILY_STATS_CRON: '',
      LOG_LEVEL: 'warn',
      MCS_STATS_INTERVAL_MS: '0',
      ...benchRedisDbs(DB),
    },
  });
}

function git(cmd: string): string {
  try {
    return execSync(`git ${cmd}`, { cwd: REPO, encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
}

function packageVersion(name: string): string {
  const file = require.resolve(`${name}/package.json`, { paths: [REPO] });
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

function machineInfo() {
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model ?? '?',
    cpus: cpus.length,
    totalMemMiB: mib(os.totalmem()),
    loadAvgAtStart: os.loadavg().map((l) => round(l, 2)),
    kafkajs: packageVersion('kafkajs'),
    ioredis: packageVersion('ioredis'),
    gitHead: git('rev-parse --short HEAD'),
    srcDirtyFiles: git('status --porcelain -- src consumers').split('\n').filter(Boolean).length,
  };
}

/** Samples memory and the service counters every 250 ms. */
class Sampler {
  peakRss = 0;
  peakHeapUsed = 0;
  peakExternal = 0;
  readonly timeline: { tMs: number; events: number; rssMiB: number; heapMiB: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly started = Date.now();

  start(events: () => number): void {
    this.sample(events);
    this.timer = setInterval(() => this.sample(events), 250);
  }

  stop(events: () => number): void {
    if (this.timer) clearInterval(this.timer);
    this.sample(events);
  }

  private sample(events: () => number): void {
    const m = process.memoryUsage();
    this.peakRss = Math.max(this.peakRss, m.rss);
    this.peakHeapUsed = Math.max(this.peakHeapUsed, m.heapUsed);
    this.peakExternal = Math.max(this.peakExternal, m.external + m.arrayBuffers);
    this.timeline.push({
      tMs: Date.now() - this.started,
      events: events(),
      rssMiB: mib(m.rss),
      heapMiB: mib(m.heapUsed),
    });
  }
}

// ---- Redis fixtures ------------------------------------------------------------------------

interface KeyPlan {
  /** DB → keys. */
  readonly byDb: Map<number, string[]>;
  readonly total: number;
}

function benchKeys(): KeyPlan {
  const session: string[] = [];
  const p: string[] = [];
  for (let u = 1; u <= MIX.users; u++) {
    p.push(`permissions:user:${u}`);
    session.push(`session:user:${u}`);
  }
  const { days, months } = orderDays();
  for (const d of days) p.push(`stats:daily_sales:${d}`);
  for (const m of months) p.push(`stats:monthly_revenue:${m}`);
  for (let b = 1; b <= MIX.brands; b++) {
    for (const s of ['daily_sales', 'monthly_sales', 'orders', 'visitors']) {
      p.push(`stats:${s}:brand:${b}`);
      for (const m of months) p.push(`stats:${s}:brand:${b}:${m}`);
    }
  }
  p.push('master:brands');
  const byDb = new Map([
    [DB.session, session],
    [DB.permissions, p],
  ]);
  return { byDb, total: session.length + p.length };
}

function redisFor(url: string, db: number): Redis {
  return new Redis(url, { db, maxRetriesPerRequest: 2, lazyConnect: false });
}

async function populateRedis(url: string, keys: KeyPlan): Promise<void> {
  const value = JSON.stringify({
    menus: Array.from({ length: 12 }, (_, i) => ({ id: i + 1, c: 'Y', r: 'Y', u: 'N', d: 'N' })),
  });
  for (const [db, list] of keys.byDb) {
    const r = redisFor(url, db);
    try {
      const before = await r.dbsize();
      if (before > 0)
        log(`warning: Redis DB ${db} already holds ${before} keys (left from elsewhere?)`);
      for (let i = 0; i < list.length; i += 1000) {
        const pipe = r.pipeline();
        for (const k of list.slice(i, i + 1000)) pipe.set(k, value, 'EX', 3600);
        await pipe.exec();
      }
    } finally {
      r.disconnect();
    }
  }
}

async function cleanupRedis(url: string, keys: KeyPlan): Promise<number> {
  let removed = 0;
  for (const [db, list] of keys.byDb) {
    const r = redisFor(url, db);
    try {
      for (let i = 0; i < list.length; i += 1000)
        removed += await r.unlink(...list.slice(i, i + 1000));
    } finally {
      r.disconnect();
    }
  }
  return removed;
}

// ---- Kafka ---------------------------------------------------------------------------------

async function createTopics(admin: Admin, tables: readonly string[]): Promise<void> {
  const busy = new Set<string>(BENCH_TABLES);
  // Every ruled table gets a topic: the service subscribes to all of them and
  // MCS_ENSURE_TOPICS is off. Only the three benchmark tables carry events.
  await admin.createTopics({
    topics: tables.map((t) => ({
      topic: topicOf(t),
      numPartitions: busy.has(t) ? PARTITIONS : 1,
      replicationFactor: 1,
    })),
    waitForLeaders: true,
  });
}

async function produce(
  kafka: Kafka,
): Promise<{ ms: number; bytes: number; byTable: Record<string, number> }> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const started = Date.now();
  const byTable: Record<string, number> = {};
  const batcher = new TopicBatcher(producer, 1_500_000);
  try {
    for (const e of benchEvents(MIX)) {
      await batcher.push(topicOf(e.table), { key: e.key, value: e.value, headers: HEADERS });
      byTable[e.table] = (byTable[e.table] ?? 0) + 1;
    }
    await batcher.flush();
  } finally {
    await producer.disconnect();
  }
  return { ms: Date.now() - started, bytes: batcher.bytes, byTable };
}

interface PartitionEnd {
  readonly topic: string;
  readonly partition: number;
  readonly high: bigint;
}

async function partitionEnds(admin: Admin): Promise<PartitionEnd[]> {
  const out: PartitionEnd[] = [];
  for (const t of BENCH_TABLES) {
    for (const o of await admin.fetchTopicOffsets(topicOf(t))) {
      if (o.high !== o.low)
        out.push({ topic: topicOf(t), partition: o.partition, high: BigInt(o.high) });
    }
  }
  return out;
}

/** Same rule as test/support/stack.ts waitCaughtUp: committed offset ≥ end on every partition. */
async function caughtUp(admin: Admin, ends: readonly PartitionEnd[]): Promise<boolean> {
  const committed = await admin.fetchOffsets({
    groupId: GROUP,
    topics: BENCH_TABLES.map(topicOf),
  });
  for (const end of ends) {
    const c = committed
      .find((t) => t.topic === end.topic)
      ?.partitions.find((p) => p.partition === end.partition);
    if (!c || BigInt(c.offset) < end.high) return false;
  }
  return true;
}

// ---- modes ---------------------------------------------------------------------------------

async function serviceMode(kafka: Kafka, admin: Admin, tables: readonly string[]) {
  const config = benchConfig();
  const keys = benchKeys();
  log(
    `creating ${tables.length} topics ${PREFIX}.${DATABASE}.* and ${keys.total} Redis keys (DBs ${DB.session}/${DB.permissions})`,
  );
  await createTopics(admin, tables);
  try {
    await populateRedis(config.redis.url, keys);
    log(`producing ${MIX.events} events…`);
    const produced = await produce(kafka);
    const ends = await partitionEnds(admin);
    const totalMessages = ends.reduce((a, e) => a + Number(e.high), 0);
    log(
      `produced ${totalMessages} messages, ${mib(produced.bytes)} MiB in ${produced.ms} ms ` +
        `(${round(totalMessages / (produced.ms / 1000))} msg/s)`,
    );

    gc();
    const baseline = process.memoryUsage();
    const sampler = new Sampler();
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    let eventsNow = () => 0;
    sampler.start(() => eventsNow());
    const service = await startService(config, createLogger(config.log.level));
    const joinedMs = Date.now() - t0;
    eventsNow = () => {
      let n = 0;
      for (const [k, v] of Object.entries(service.counters.snapshot()))
        if (k.startsWith('events{')) n += v;
      return n;
    };
    let doneMs = 0;
    try {
      for (;;) {
        if (await caughtUp(admin, ends)) {
          doneMs = Date.now() - t0;
          break;
        }
        if (Date.now() - t0 > TIMEOUT_MS) throw new Error(`not caught up after ${TIMEOUT_MS} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      sampler.stop(eventsNow);
      await service.stop();
    }
    const cpu = process.cpuUsage(cpu0);
    const counters = service.counters.snapshot();
    const events = Object.entries(counters)
      .filter(([k]) => k.startsWith('events{'))
      .reduce((a, [, v]) => a + v, 0);
    const batches = counters.batches ?? 0;
    const cpuS = (cpu.user + cpu.system) / 1e6;
    const removed = await cleanupRedis(config.redis.url, keys);
    return {
      produced: {
        messages: totalMessages,
        byTable: produced.byTable,
        mib: mib(produced.bytes),
        avgValueBytes: Math.round(produced.bytes / totalMessages),
        ms: produced.ms,
        msgPerSec: round(totalMessages / (produced.ms / 1000)),
      },
      redisKeysPrepared: keys.total,
      redisKeysLeftAndRemovedAtEnd: removed,
      joinMs: joinedMs,
      caughtUpMs: doneMs,
      eventsPerSec: round(events / (doneMs / 1000)),
      eventsPerSecAfterJoin: round(events / ((doneMs - joinedMs) / 1000)),
      events,
      batches,
      avgBatchSize: round(events / Math.max(batches, 1), 1),
      keysDeleted: counters.keysDeleted ?? 0,
      patternScans: counters.patternScans ?? 0,
      rejected: counters.rejected ?? 0,
      counters,
      loadAvgAtEnd: os.loadavg().map((l) => round(l, 2)),
      processCpuSeconds: round(cpuS, 2),
      processCpuPercentOfOneCore: round((cpuS / (doneMs / 1000)) * 100, 1),
      memory: {
        baselineRssMiB: mib(baseline.rss),
        baselineHeapUsedMiB: mib(baseline.heapUsed),
        peakRssMiB: mib(sampler.peakRss),
        peakHeapUsedMiB: mib(sampler.peakHeapUsed),
        peakExternalMiB: mib(sampler.peakExternal),
      },
      timeline: sampler.timeline.filter((_, i) => i % 4 === 0), // one point per second
    };
  } finally {
    await admin.deleteTopics({ topics: tables.map(topicOf) }).catch((err: Error) => {
      log(`could not delete topics: ${err.message}`);
    });
    await admin.deleteGroups([GROUP]).catch(() => undefined);
  }
}

function planMode(schemas: SchemaSource | undefined) {
  const rules = loadRules();
  const ctx: BatchContext = {
    ...(schemas ? { schemas } : {}),
    rules,
    topicPrefix: PREFIX,
    database: DATABASE,
    snapshotInvalidates: false,
    refreshFamilies: new Set(),
    zones: { business: 'Asia/Seoul', database: 'Asia/Seoul' },
  };
  const offsets: Record<string, number> = {};
  const pending = new Map<BenchTable, RawRecord[]>();
  let planNs = 0n;
  let parseNs = 0n;
  let nativeNs = 0n;
  let events = 0;
  let ops = 0;
  let rejected = 0;
  let batches = 0;
  const run = (records: RawRecord[]) => {
    const t = process.hrtime.bigint();
    const plan = planBatch(records, ctx);
    planNs += process.hrtime.bigint() - t;
    batches += 1;
    ops += plan.ops.length;
    rejected += plan.rejected.length;
    events += plan.handled.length;
    // Where the time goes: the service's JSON parse (json-bigint when a 16+ digit integer is
    // present) versus plain JSON.parse of the same texts.
    if (encoder) return; // Avro: no JSON to parse
    const texts = records.map((r) => (r.value as Buffer).toString('utf8'));
    const t1 = process.hrtime.bigint();
    for (const s of texts) parseJson(s);
    const t2 = process.hrtime.bigint();
    for (const s of texts) JSON.parse(s);
    parseNs += t2 - t1;
    nativeNs += process.hrtime.bigint() - t2;
  };
  // Warm-up (JIT) on a separate, smaller stream.
  let warm: RawRecord[] = [];
  for (const e of benchEvents({
    ...MIX,
    events: Math.min(20_000, MIX.events),
    seed: MIX.seed + 1,
  })) {
    warm.push({ topic: topicOf(e.table), partition: 0, offset: '0', key: e.key, value: e.value });
    if (warm.length === PLAN_BATCH) {
      planBatch(warm, ctx);
      warm = [];
    }
  }
  gc();
  const wall0 = Date.now();
  for (const e of benchEvents(MIX)) {
    const offset = (offsets[e.table] = (offsets[e.table] ?? -1) + 1);
    const list = pending.get(e.table) ?? [];
    pending.set(e.table, list);
    list.push({
      topic: topicOf(e.table),
      partition: 0,
      offset: String(offset),
      key: e.key,
      value: e.value,
    });
    if (list.length === PLAN_BATCH) {
      run(list);
      pending.set(e.table, []);
    }
  }
  for (const list of pending.values()) if (list.length > 0) run(list);
  const planS = Number(planNs) / 1e9;
  return {
    batchSize: PLAN_BATCH,
    events,
    batches,
    ops,
    rejected,
    planSeconds: round(planS, 3),
    eventsPerSec: round(events / planS),
    ...(encoder
      ? {}
      : {
          parseJsonEventsPerSec: round(events / (Number(parseNs) / 1e9)),
          nativeJsonParseEventsPerSec: round(events / (Number(nativeNs) / 1e9)),
        }),
    wallSecondsInclGeneration: round((Date.now() - wall0) / 1000, 2),
  };
}

// ---- main ----------------------------------------------------------------------------------

async function main(): Promise<void> {
  syncYamlRules();
  const machine = machineInfo();
  const config = benchConfig();
  const tables = loadRules().tables;
  log(
    `${MIX.events} events (user_auth ${round((1 - MIX.ordersShare - MIX.brandsShare) * 100, 1)}%, ` +
      `trade_orders ${round(MIX.ordersShare * 100, 1)}%, brands ${round(MIX.brandsShare * 100, 1)}%), ` +
      `mode ${MODE}, format ${FORMAT}, node ${machine.node}, ${machine.cpus}× ${machine.cpuModel}`,
  );

  let schemas: SchemaSource | undefined;
  if (FORMAT === 'avro') {
    if (!config.registry.url)
      throw new Error('--format avro needs SCHEMA_REGISTRY_URL (STACK_FORMAT=avro)');
    encoder = await avroEncoder(REPO, config.registry.url, topicOf);
    const registry = new SchemaRegistry(config.registry);
    // every writer schema once, so plan-only measures decoding with a warm cache like the service
    const sample = [...benchEvents({ ...MIX, events: 2000, seed: MIX.seed + 2 })];
    await registry.prepare(
      sample.map((e) => ({
        topic: topicOf(e.table),
        partition: 0,
        offset: '0',
        key: e.key,
        value: e.value,
      })),
    );
    schemas = registry;
  }
  let service: Awaited<ReturnType<typeof serviceMode>> | undefined;
  if (MODE !== 'plan') {
    const kafka = new Kafka({
      clientId: 'mcs-bench-driver',
      brokers: [...config.kafka.brokers],
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      service = await serviceMode(kafka, admin, tables);
    } finally {
      await admin.disconnect();
    }
  }
  gc();
  const plan = MODE !== 'service' ? planMode(schemas) : undefined;

  const rows: [string, string][] = [];
  if (service) {
    rows.push(
      ['service: events', String(service.events)],
      ['service: time to caught up (s)', String(round(service.caughtUpMs / 1000, 2))],
      ['service: of which start + group join (s)', String(round(service.joinMs / 1000, 2))],
      ['service: events/s (from start)', String(service.eventsPerSec)],
      ['service: events/s (after join)', String(service.eventsPerSecAfterJoin)],
      ['service: batches (avg size)', `${service.batches} (${service.avgBatchSize})`],
      ['service: keys deleted / pattern scans', `${service.keysDeleted} / ${service.patternScans}`],
      [
        'service: CPU of this process',
        `${service.processCpuSeconds} s (${service.processCpuPercentOfOneCore}% of a core)`,
      ],
      [
        'service: RSS baseline → peak (MiB)',
        `${service.memory.baselineRssMiB} → ${service.memory.peakRssMiB}`,
      ],
      [
        'service: heap used baseline → peak (MiB)',
        `${service.memory.baselineHeapUsedMiB} → ${service.memory.peakHeapUsedMiB}`,
      ],
      [
        'producer (setup): msg/s',
        `${service.produced.msgPerSec} (${service.produced.mib} MiB, ~${service.produced.avgValueBytes} B/msg)`,
      ],
    );
  }
  if (plan) {
    rows.push([`plan only: events/s (batches of ${plan.batchSize})`, String(plan.eventsPerSec)]);
    if (plan.parseJsonEventsPerSec !== undefined)
      rows.push(
        ['plan only: parseJson alone, events/s', String(plan.parseJsonEventsPerSec)],
        ['plan only: JSON.parse alone, events/s', String(plan.nativeJsonParseEventsPerSec)],
      );
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log('');
  for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
  console.log('');

  if (!args['no-write']) {
    const result = {
      date: new Date().toISOString(),
      prefix: PREFIX,
      format: FORMAT,
      mix: MIX,
      redisDbs: DB,
      machine,
      service,
      plan,
    };
    log(`results written to ${appendResult('throughput', result.date, result)}`);
  }
}

runMain(main);
