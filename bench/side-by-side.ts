/**
 * Side-by-side throughput in ONE run, so that ratios hold however busy the machine is:
 *
 *   npm run bench:side -- [--events 200000] [--naive-events 50000] [--schemas both|with|without]
 *                         [--only kind,kind] [--users 50000] [--profile] [--no-write]
 *                         [--record-batch-bytes 16384]
 *
 * For each form of the events (JSON converter with the schema wrapper, and without it) it
 * produces N Debezium-shaped `user_auth` updates to ONE partition, in record batches of about
 * `--record-batch-bytes` (16 KiB: the Kafka producer's `batch.size`, which Kafka Connect's workers
 * and so Debezium keep unless told otherwise; of a batch larger than what is left of a fetch's
 * share of the partition, the client reads a part and drops it), then runs, each in its own child
 * process (clean memory figures, no JIT state carried over), reading from the earliest offset:
 * - `ceiling-kafkajs`, `ceiling-platformatic`: the client consumes and JSON.parses every value,
 *   nothing else (no commits) — the raw consume+parse ceiling of each client;
 * - `naive`: kafkajs eachMessage, JSON.parse, then an awaited DEL of the user's two keys (over
 *   `--naive-events`, its rate is what counts);
 * - `floor-kafkajs`, `floor-platformatic`: the least any invalidator does: consume (kafkajs
 *   eachBatch; @platformatic/kafka: what the stream buffered, read in pull mode with the service's
 *   fetch options), JSON.parse of every value, one UNLINK per DB of the batch's distinct keys,
 *   awaited before the next batch; no rules, no second pass, no row index, no commits. The faster
 *   of the two (the best floor) is what the service's rate is measured against;
 * - `service-kafkajs`, `service-platformatic`: the real service (`startService`, rules, Redis,
 *   commits after Redis acknowledged) with `MCS_KAFKA_CLIENT` set, until its committed offset is
 *   the end of the partition. A build whose config has no Kafka client choice runs kafkajs only:
 *   `service-platformatic` is then reported as skipped.
 * Rates are events / (last event − first event). Redis holds `permissions:user:{1..users}` and
 * `session:user:{1..users}` (DBs 11/10) before each naive and service run; the keys gone after the
 * run are counted and printed (keys actually deleted). Peak RSS is the child's maxRSS. CPU per
 * event: the child's user+sys (process.resourceUsage() at its end, start-up included) / events,
 * and the same over the window alone (process.cpuUsage() at the first and the last event);
 * GC share: the durations of the perf_hooks 'gc' entries that start inside the measured window
 * (first → last event), summed, / that window.
 * Results are appended to `bench/results/<date>-side-by-side.json`.
 */
import { execSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PerformanceObserver, performance, type EventLoopUtilization } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Redis from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { loadConfig } from '../src/config/config';
import { endOfJsonValue } from '../src/envelope/wrapper-cache';
import { loadRules } from '../src/rules/registry';
import { startService } from '../src/app/service';
import { createLogger } from '../src/telemetry/logger';
import { HEADERS, generateEvents } from './generate';
import { REPO, appendResult, benchRedisDbs } from './support';

const DATABASE = 'mis';
const DB = { session: 10, permissions: 11, temp: 12, rowIndex: 13 };
const KINDS = [
  'ceiling-kafkajs',
  'ceiling-platformatic',
  'naive',
  'floor-kafkajs',
  'floor-platformatic',
  'service-kafkajs',
  'service-platformatic',
] as const;
type Kind = (typeof KINDS)[number];

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    'naive-events': { type: 'string', default: '50000' },
    users: { type: 'string', default: '50000' },
    schemas: { type: 'string', default: 'both' },
    only: { type: 'string', default: KINDS.join(',') },
    profile: { type: 'boolean', default: false },
    'record-batch-bytes': { type: 'string', default: '16384' },
    'no-write': { type: 'boolean', default: false },
    // child mode
    child: { type: 'string' },
    prefix: { type: 'string' },
    count: { type: 'string' },
  },
  strict: true,
});

const brokers = () => {
  const b = process.env.KAFKA_BROKERS;
  if (!b) throw new Error('KAFKA_BROKERS unset: source .stack/env (npm run stack:up)');
  return b.split(',');
};
const redisUrl = () => process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const topicOf = (prefix: string) => `${prefix}.${DATABASE}.user_auth`;
const round = (n: number, d = 0) => Math.round(n * 10 ** d) / 10 ** d;
const log = (msg: string) =>
  console.error(`[side ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const kafkajs = () =>
  new Kafka({ clientId: 'mcs-bench-side', brokers: brokers(), logLevel: logLevel.NOTHING });

interface ChildResult {
  kind: Kind;
  /** Why the kind did not run (its figures are then zero). */
  skipped?: string;
  events: number;
  firstToLastMs: number;
  eventsPerSec: number;
  peakRssMiB: number;
  /** user+sys of the child process, start-up included. */
  cpuSeconds: number;
  /** cpuSeconds / events, in µs. */
  cpuUsPerEvent: number;
  /** user+sys from the first event to the last / events, in µs: start-up and group join left out. */
  windowCpuUsPerEvent: number;
  /** GC pauses (perf_hooks 'gc' entries) inside the measured window / the window, in %. */
  gcPercent: number;
  gcCount: number;
  /** Main thread busy over the window (perf_hooks eventLoopUtilization), in %: below 100 the
   * process waits (on Redis, Kafka) and overlap could gain; near 100 only less work does. */
  mainBusyPercent: number;
  keysDeletedCounter?: number;
}

// ---- child processes ------------------------------------------------------------------------

async function child(kind: Kind, prefix: string, count: number): Promise<void> {
  const topic = topicOf(prefix);
  const group = `mcs-bench-side-${kind}-${Date.now().toString(36)}`;
  let first = 0;
  let last = 0;
  let seen = 0;
  // process CPU at the first and at the last event (the window's CPU, without start-up)
  let cpuFirst = process.cpuUsage();
  let cpuLast = cpuFirst;
  let eluFirst: EventLoopUtilization = performance.eventLoopUtilization();
  let eluLast = eluFirst;
  // GC pauses, kept as (start, duration); summed over the measured window at the end.
  const gcs: [number, number][] = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push([e.startTime, e.duration]);
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const mark = (n: number) => {
    if (seen === 0 && n > 0) {
      first = performance.now();
      cpuFirst = process.cpuUsage();
      eluFirst = performance.eventLoopUtilization();
    }
    seen += n;
    if (seen >= count && last === 0) {
      last = performance.now();
      cpuLast = process.cpuUsage();
      eluLast = performance.eventLoopUtilization();
    }
  };
  let keysDeletedCounter: number | undefined;
  if (kind === 'ceiling-kafkajs' || kind === 'naive' || kind === 'floor-kafkajs') {
    const consumer = kafkajs().consumer({ groupId: group });
    const redis =
      kind === 'ceiling-kafkajs'
        ? undefined
        : {
            s: new Redis(redisUrl(), { db: DB.session }),
            p: new Redis(redisUrl(), { db: DB.permissions }),
          };
    const userOf = (value: Buffer | null) => {
      const json = JSON.parse(value?.toString('utf8') ?? 'null') as {
        payload?: { after?: { user_id?: number } };
        after?: { user_id?: number };
      };
      return (json.payload ?? json).after?.user_id;
    };
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      void consumer.run(
        kind === 'naive' && redis
          ? {
              autoCommit: false,
              eachMessage: async ({ message }) => {
                if (seen >= count) return;
                const id = userOf(message.value);
                await redis.p.del(`permissions:user:${id}`);
                await redis.s.del(`session:user:${id}`);
                mark(1);
                if (seen >= count) resolve();
              },
            }
          : {
              autoCommit: false,
              eachBatch: async ({ batch }) => {
                if (redis) {
                  const ids = new Set<number | undefined>();
                  for (const m of batch.messages) ids.add(userOf(m.value));
                  const users = [...ids];
                  await Promise.all([
                    redis.p.unlink(...users.map((id) => `permissions:user:${id}`)),
                    redis.s.unlink(...users.map((id) => `session:user:${id}`)),
                  ]);
                } else {
                  for (const m of batch.messages) JSON.parse(m.value?.toString('utf8') ?? 'null');
                }
                mark(batch.messages.length);
                if (seen >= count) resolve();
              },
            },
      );
    });
    await consumer.disconnect();
    redis?.s.disconnect();
    redis?.p.disconnect();
  } else if (kind === 'floor-platformatic') {
    const { Consumer } = await import('@platformatic/kafka');
    // The service's fetch options (src/intake/platformatic/consumer.ts): 500 ms wait, 2 MiB per
    // fetch, 1024 records buffered; pull mode, every read drains what the stream buffered.
    const consumer = new Consumer({
      clientId: 'mcs-bench-side',
      bootstrapBrokers: brokers(),
      groupId: group,
      autocommit: false,
      maxWaitTime: 500,
      maxBytes: 2 * 1024 * 1024,
      highWaterMark: 1024,
    });
    const redis = {
      s: new Redis(redisUrl(), { db: DB.session }),
      p: new Redis(redisUrl(), { db: DB.permissions }),
    };
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    stream.on('readable', () => undefined); // keeps the stream in pull mode
    while (seen < count) {
      const ids = new Set<number | undefined>();
      let n = 0;
      for (let m = stream.read() as { value: Buffer } | null; m !== null; m = stream.read()) {
        const json = JSON.parse(m.value.toString('utf8')) as {
          payload?: { after?: { user_id?: number } };
          after?: { user_id?: number };
        };
        ids.add((json.payload ?? json).after?.user_id);
        n++;
      }
      if (n === 0) {
        await new Promise<void>((resolve) => stream.once('readable', resolve));
        continue;
      }
      const users = [...ids];
      await Promise.all([
        redis.p.unlink(...users.map((id) => `permissions:user:${id}`)),
        redis.s.unlink(...users.map((id) => `session:user:${id}`)),
      ]);
      mark(n);
    }
    await stream.close();
    await consumer.close();
    redis.s.disconnect();
    redis.p.disconnect();
  } else if (kind === 'ceiling-platformatic') {
    const { Consumer } = await import('@platformatic/kafka');
    const consumer = new Consumer({
      clientId: 'mcs-bench-side',
      bootstrapBrokers: brokers(),
      groupId: group,
      autocommit: false,
      maxWaitTime: 500,
    });
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    await new Promise<void>((resolve) => {
      stream.on('data', (m) => {
        JSON.parse((m.value as Buffer).toString('utf8'));
        mark(1);
        if (seen >= count) resolve();
      });
    });
    await stream.close();
    await consumer.close();
  } else {
    const client = kind === 'service-kafkajs' ? 'kafkajs' : 'platformatic';
    const config = loadConfig({
      cwd: REPO,
      env: {
        ...process.env,
        TOPIC_PREFIX: prefix,
        MYSQL_DATABASE: DATABASE,
        MCS_GROUP_ID: group,
        MCS_KAFKA_CLIENT: client,
        MCS_FROM_BEGINNING: 'true',
        MCS_ENSURE_TOPICS: 'false',
        MCS_REFRESH_FAMILIES: '',
        MCS_CONSUMERS_DIR: '',
        MCS_DAILY_STATS_CRON: '',
        MCS_HTTP_ENABLED: 'false',
        LOG_LEVEL: 'warn',
        MCS_STATS_INTERVAL_MS: '0',
        ...benchRedisDbs(DB),
        MCS_ROW_INDEX_DB: String(DB.rowIndex),
      },
    });
    const chosen = (config.kafka as { client?: string }).client ?? 'kafkajs';
    if (chosen !== client) {
      const skipped = `this build has no MCS_KAFKA_CLIENT=${client}`;
      process.stdout.write(`${JSON.stringify({ kind, skipped, events: 0, eventsPerSec: 0 })}\n`);
      return;
    }
    const admin = kafkajs().admin();
    await admin.connect();
    const service = await startService(config, createLogger(config.log.level));
    const events = () => service.counters.get('events', 'user_auth:u');
    // First event: polled every 2 ms; end: the committed offset reaches the partition's end.
    while (events() === 0) await new Promise((r) => setTimeout(r, 2));
    first = performance.now();
    cpuFirst = process.cpuUsage();
    eluFirst = performance.eventLoopUtilization();
    // No Kafka polling while the backlog is worked through (it would cost the service CPU):
    // the committed offset is polled once every event was counted.
    while (events() < count) await new Promise((r) => setTimeout(r, 2));
    for (;;) {
      const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      const committed = Number(t?.partitions[0]?.offset ?? -1);
      if (committed >= count) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    last = performance.now();
    cpuLast = process.cpuUsage();
    eluLast = performance.eventLoopUtilization();
    seen = events();
    keysDeletedCounter = service.counters.get('keysDeleted');
    await service.stop();
    await admin.deleteGroups([group]).catch(() => undefined);
    await admin.disconnect();
  }
  const usage = process.resourceUsage();
  const ms = last - first;
  await new Promise((r) => setTimeout(r, 50)); // the last 'gc' entries are delivered async
  gcObserver.disconnect();
  const inWindow = gcs.filter(([t]) => t >= first && t <= last);
  const gcMs = inWindow.reduce((sum, [, d]) => sum + d, 0);
  const cpuUs = usage.userCPUTime + usage.systemCPUTime;
  const counted = Math.min(seen, count);
  const result: ChildResult = {
    kind,
    events: counted,
    firstToLastMs: round(ms, 1),
    eventsPerSec: round((counted - 1) / (ms / 1000)),
    peakRssMiB: round(usage.maxRSS / 1024, 1),
    cpuSeconds: round(cpuUs / 1e6, 2),
    cpuUsPerEvent: round(cpuUs / Math.max(counted, 1), 1),
    windowCpuUsPerEvent: round(
      (cpuLast.user + cpuLast.system - cpuFirst.user - cpuFirst.system) / Math.max(counted, 1),
      1,
    ),
    gcPercent: ms > 0 ? round((gcMs / ms) * 100, 1) : 0,
    gcCount: inWindow.length,
    mainBusyPercent: round(
      performance.eventLoopUtilization(eluLast, eluFirst).utilization * 100,
      1,
    ),
    ...(keysDeletedCounter === undefined ? {} : { keysDeletedCounter }),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runChild(kind: Kind, prefix: string, count: number, profileDir?: string) {
  const nodeArgs = [
    ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
    __filename,
    '--child',
    kind,
    '--prefix',
    prefix,
    '--count',
    String(count),
  ];
  return new Promise<ChildResult>((resolve, reject) => {
    const p = spawn(process.execPath, nodeArgs, {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) reject(new Error(`${kind} exited ${code}: ${out.slice(-500)}`));
      else resolve(JSON.parse(line) as ChildResult);
    });
  });
}

// ---- parent ---------------------------------------------------------------------------------

async function produce(prefix: string, events: number, users: number, withSchema: boolean) {
  const k = kafkajs();
  const admin = k.admin();
  await admin.connect();
  const tables = loadRules().tables;
  const topics = tables.map((t) => `${prefix}.${DATABASE}.${t}`);
  await admin
    .createTopics({
      topics: topics.map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })),
      waitForLeaders: true,
    })
    .catch((err: unknown) => log(`createTopics: ${String(err)}; waiting for the leaders`));
  // On a loaded machine waitForLeaders can give up before the broker has them: poll on.
  for (let i = 0; ; i++) {
    try {
      await admin.fetchTopicMetadata({ topics });
      break;
    } catch (err) {
      if (i >= 60) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  await admin.disconnect();
  const producer = k.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const topic = topicOf(prefix);
  const batchBytes = Number(args['record-batch-bytes']);
  let batch: { key: Buffer; value: Buffer; headers: Record<string, string> }[] = [];
  let bytes = 0;
  let valueBytes = 0;
  // One send is one record batch; SENDS_IN_FLIGHT of them pipelined on the broker's connection,
  // which the broker appends in the order they were written.
  const SENDS_IN_FLIGHT = 64;
  const inFlight: Promise<unknown>[] = [];
  const send = async (messages: typeof batch) => {
    inFlight.push(producer.send({ topic, messages, acks: -1 }));
    if (inFlight.length >= SENDS_IN_FLIGHT) await inFlight.shift();
  };
  const mix = { events, users, brands: 20, ordersShare: 0, brandsShare: 0, seed: 42 };
  for (const e of generateEvents(mix)) {
    let value = e.value;
    if (!withSchema) {
      // The payload's exact bytes: `{"schema":<S>,"payload":<P>}` → <P>.
      const end = endOfJsonValue(value, '{"schema":'.length);
      value = value.subarray(end + ',"payload":'.length, value.length - 1);
    }
    const size = value.length + e.key.length + 300; // + headers
    if (batch.length > 0 && bytes + size > batchBytes) {
      await send(batch);
      batch = [];
      bytes = 0;
    }
    batch.push({ key: e.key, value, headers: HEADERS });
    bytes += size;
    valueBytes += value.length;
  }
  if (batch.length > 0) await send(batch);
  await Promise.all(inFlight);
  await producer.disconnect();
  return { avgValueBytes: Math.round(valueBytes / events) };
}

async function dropTopics(prefix: string) {
  const admin = kafkajs().admin();
  await admin.connect();
  const tables = loadRules().tables;
  await admin
    .deleteTopics({ topics: tables.map((t) => `${prefix}.${DATABASE}.${t}`) })
    .catch(() => undefined);
  await admin.disconnect();
}

async function fillRedis(users: number): Promise<number> {
  let n = 0;
  for (const [db, family] of [
    [DB.session, 'session'],
    [DB.permissions, 'permissions'],
  ] as const) {
    const r = new Redis(redisUrl(), { db });
    for (let u = 1; u <= users; u += 1000) {
      const pipe = r.pipeline();
      for (let i = u; i < Math.min(u + 1000, users + 1); i++) {
        pipe.set(`${family}:user:${i}`, '{"bench":1}', 'EX', 3600);
        n++;
      }
      await pipe.exec();
    }
    r.disconnect();
  }
  return n;
}

/** Keys of the bench families left in DBs 10/11 (removes them too). */
async function drainRedis(users: number): Promise<number> {
  let left = 0;
  for (const [db, family] of [
    [DB.session, 'session'],
    [DB.permissions, 'permissions'],
  ] as const) {
    const r = new Redis(redisUrl(), { db });
    for (let u = 1; u <= users; u += 1000) {
      const keys: string[] = [];
      for (let i = u; i < Math.min(u + 1000, users + 1); i++) keys.push(`${family}:user:${i}`);
      left += await r.unlink(...keys);
    }
    r.disconnect();
  }
  return left;
}

/** Distinct users of the first `count` generated events (the keys a full run must delete). */
function expectedUsers(count: number, users: number): number {
  const seen = new Set<number>();
  let i = 0;
  for (const e of generateEvents({
    events: count,
    users,
    brands: 20,
    ordersShare: 0,
    brandsShare: 0,
    seed: 42,
  })) {
    const id = (JSON.parse(e.value.toString('utf8')) as { payload: { after: { user_id: number } } })
      .payload.after.user_id;
    seen.add(id);
    if (++i >= count) break;
  }
  return seen.size;
}

async function main(): Promise<void> {
  if (args.child) {
    await child(args.child as Kind, String(args.prefix), Number(args.count));
    process.exit(0);
  }
  const events = Number(args.events);
  const naiveEvents = Math.min(Number(args['naive-events']), events);
  const users = Number(args.users);
  // `floor` (the kind's name before there was one per client) selects both floors.
  const only = String(args.only)
    .split(',')
    .flatMap((k) => (k === 'floor' ? ['floor-kafkajs', 'floor-platformatic'] : [k])) as Kind[];
  for (const k of only) if (!KINDS.includes(k)) throw new Error(`--only: unknown kind ${k}`);
  const forms =
    args.schemas === 'both' ? [true, false] : args.schemas === 'without' ? [false] : [true];
  const profileDir = args.profile
    ? path.join(REPO, '.stack', 'profiles', Date.now().toString(36))
    : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const load = () => os.loadavg().map((l) => round(l, 2));
  const expected = {
    all: expectedUsers(events, users) * 2,
    naive: expectedUsers(naiveEvents, users) * 2,
  };
  const entry = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    gitHead: git('rev-parse --short HEAD'),
    srcDirtyFiles: git('status --porcelain -- src consumers').split('\n').filter(Boolean).length,
    events,
    naiveEvents,
    users,
    partitions: 1,
    recordBatchBytes: Number(args['record-batch-bytes']),
    forms: [] as unknown[],
  };
  const lines: string[] = [];
  const summary: string[] = [];
  for (const withSchema of forms) {
    const prefix = `side${Date.now().toString(36)}${withSchema ? 's' : 'n'}`;
    const form = withSchema ? 'with schema' : 'without schema';
    log(`${form}: producing ${events} user_auth updates to ${topicOf(prefix)} (1 partition)…`);
    const produced = await produce(prefix, events, users, withSchema);
    const results: (ChildResult & { loadAtStart: number[]; keysActuallyDeleted?: number })[] = [];
    try {
      for (const kind of only) {
        const count = kind === 'naive' ? naiveEvents : events;
        const touchesRedis =
          kind === 'naive' || kind.startsWith('floor') || kind.startsWith('service');
        const loadAtStart = load();
        let prepared = 0;
        if (touchesRedis) {
          await drainRedis(users);
          prepared = await fillRedis(users);
        }
        log(`${form}: ${kind} over ${count} events (load ${loadAtStart.join(' ')})…`);
        const r = await runChild(
          kind,
          prefix,
          count,
          kind.startsWith('service') ? profileDir : undefined,
        );
        const keysActuallyDeleted = touchesRedis ? prepared - (await drainRedis(users)) : undefined;
        results.push({
          ...r,
          loadAtStart,
          ...(keysActuallyDeleted === undefined ? {} : { keysActuallyDeleted }),
        });
        if (r.skipped) {
          log(`${form}: ${kind}: skipped (${r.skipped})`);
          continue;
        }
        log(
          `${form}: ${kind}: ${r.eventsPerSec} events/s, peak RSS ${r.peakRssMiB} MiB` +
            (keysActuallyDeleted === undefined
              ? ''
              : `, keys deleted ${keysActuallyDeleted} (expected ${kind === 'naive' ? expected.naive : expected.all})`),
        );
      }
    } finally {
      await dropTopics(prefix);
    }
    const ran = results.filter((r) => !r.skipped);
    const rate = (k: Kind) => ran.find((r) => r.kind === k)?.eventsPerSec;
    const ceiling = Math.max(rate('ceiling-kafkajs') ?? 0, rate('ceiling-platformatic') ?? 0);
    const naive = rate('naive');
    const ratios: Record<string, number> = {};
    const targets: Record<string, boolean> = {};
    // The best floor of either client, measured in this run: what the service is held against.
    const floors = ran.filter((r) => r.kind.startsWith('floor-'));
    const best = floors.reduce<ChildResult | undefined>(
      (b, r) => (b === undefined || r.eventsPerSec > b.eventsPerSec ? r : b),
      undefined,
    );
    const bestFloor = best?.eventsPerSec;
    // Issue 22's targets: the service with its defaults >= 0.8x the best floor with the schema
    // wrapper, >= 0.5x without; peak RSS <= 200 MiB on either client.
    const floorTarget = withSchema ? 0.8 : 0.5;
    for (const f of floors) {
      if (ceiling > 0) ratios[`${f.kind}/ceiling`] = round(f.eventsPerSec / ceiling, 2);
      if (naive) ratios[`${f.kind}/naive`] = round(f.eventsPerSec / naive, 1);
    }
    for (const s of ['service-kafkajs', 'service-platformatic'] as const) {
      const v = rate(s);
      if (v === undefined) continue;
      if (bestFloor) ratios[`${s}/best-floor`] = round(v / bestFloor, 2);
      if (ceiling > 0) ratios[`${s}/ceiling`] = round(v / ceiling, 2);
      if (naive) ratios[`${s}/naive`] = round(v / naive, 1);
      if (bestFloor) targets[`${s} >= ${floorTarget}x best floor`] = v / bestFloor >= floorTarget;
      const rss = ran.find((r) => r.kind === s)?.peakRssMiB ?? Infinity;
      targets[`${s} peak RSS <= 200 MiB`] = rss <= 200;
    }
    entry.forms.push({
      form,
      avgValueBytes: produced.avgValueBytes,
      expectedKeysDeleted: expected,
      results,
      ceiling,
      bestFloor: best ? { kind: best.kind, eventsPerSec: best.eventsPerSec } : undefined,
      ratios,
      targets,
    });
    lines.push(
      `${form} (${produced.avgValueBytes} B/event, 1 partition, ${events} events, naive over ${naiveEvents}):`,
      ...ran.map(
        (r) =>
          `  ${r.kind.padEnd(21)} ${String(r.eventsPerSec).padStart(7)} events/s  ` +
          `peak RSS ${r.peakRssMiB} MiB  CPU ${r.cpuSeconds} s (${r.cpuUsPerEvent} µs/event; ` +
          `${r.windowCpuUsPerEvent} µs/event first → last event)  ` +
          `GC ${r.gcPercent} %  main busy ${r.mainBusyPercent} %  load ${r.loadAtStart[0]}`,
      ),
      `  ceiling (fastest client) ${ceiling}/s, best floor ${bestFloor ?? '-'}/s` +
        `${best ? ` (${best.kind})` : ''}, naive ${naive ?? '-'}/s`,
      `  ratios: ${Object.entries(ratios)
        .map(([k, v]) => `${k} ${v}x`)
        .join(', ')}`,
      `  targets: ${Object.entries(targets)
        .map(([k, v]) => `${k} ${v ? 'met' : 'NOT met'}`)
        .join('; ')}`,
    );
    summary.push(
      `${form}: target service >= ${floorTarget}x best floor, peak RSS <= 200 MiB`,
      `  ${'kind'.padEnd(21)} ${'events/s'.padStart(9)} ${'RSS MiB'.padStart(8)} ${'CPU µs/ev'.padStart(10)} ${'window'.padStart(7)} ${'GC %'.padStart(6)} ${'busy %'.padStart(6)}  service/best floor`,
      ...ran.map((r) => {
        const service = r.kind.startsWith('service-');
        const x = service && bestFloor ? r.eventsPerSec / bestFloor : undefined;
        const rss = service ? (r.peakRssMiB <= 200 ? ' met' : ' NOT met') : '';
        const vs = x === undefined ? '' : `${round(x, 2)}x ${x >= floorTarget ? 'met' : 'NOT met'}`;
        return (
          `  ${r.kind.padEnd(21)} ${String(r.eventsPerSec).padStart(9)} ` +
          `${(String(r.peakRssMiB) + rss).padStart(8)} ${String(r.cpuUsPerEvent).padStart(10)} ` +
          `${String(r.windowCpuUsPerEvent).padStart(7)} ` +
          `${String(r.gcPercent).padStart(6)} ${String(r.mainBusyPercent).padStart(6)}  ${vs}${r === best ? 'best floor' : ''}`
        );
      }),
    );
  }
  console.log('\nside-by-side (same run):');
  for (const l of lines) console.log(`  ${l}`);
  console.log('\nsummary:');
  for (const l of summary) console.log(`  ${l}`);
  if (profileDir) console.log(`CPU profiles of the service runs: ${profileDir}`);
  if (!args['no-write']) {
    console.log(`appended to ${appendResult('side-by-side', entry.date, entry)}`);
  }
}

function git(cmd: string): string {
  try {
    return execSync(`git ${cmd}`, { cwd: REPO, encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
