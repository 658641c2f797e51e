/**
 * Scale-out: 1, 2 and 3 service instances (by default) on one backlog spread over three partitions:
 *
 *   npm run bench:instances -- [--events 150000] [--partitions 3] [--counts 1,2,3] [--users 50000]
 *                              [--redis-db-base 10] [--timeout-s 1200] [--no-write]
 *
 * One backlog of Debezium-shaped `user_auth` updates (bench/generate.ts, JSON with schemas) is
 * produced once to a `user_auth` topic of its own with `--partitions` partitions. Then it is
 * drained from the beginning once per entry of `--counts`, each time by a fresh consumer group of
 * real service processes (`node dist/src/cli/main.js run`, each under `/usr/bin/time`) started
 * together. The Redis keys the events invalidate are written again before each drain, and the
 * keys still there after it are counted against the keys the events must delete.
 *
 * Printed for each drain: events/s from start to caught up (wall, includes start-up and group
 * joins) and in steady state (committed offsets from 10 % to 90 % of the backlog), the CPU the
 * service processes, Kafka and Redis used during the drain (from /proc, in % of one core), the
 * machine's load average; and per instance process: the events it handled (its
 * `events_total`, scraped before it is stopped), its peak RSS and user+sys CPU from its own
 * resource usage (`/usr/bin/time`: the whole process life, start-up and shutdown included), and
 * that CPU ÷ its events; beside it the CPU from its group join to caught up (/proc) ÷ its events.
 * Then the ratio of each drain to the one-instance drain. On a machine with 2 cores, once the
 * service processes, the broker and Redis together use both cores, more instances only share the
 * same CPU.
 *
 * Isolation: topics `inst<time>.mis.<table>`, fresh groups, Redis DBs 10/11/12 (as `npm run
 * bench`); everything is removed at the end. Needs `npm run build` (done by the npm script).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Redis from 'ioredis';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { loadConfig } from '../src/config/config';
import { loadRules } from '../src/rules/registry';
import { HEADERS, generateEvents } from './generate';
import { REPO, appendResult, runMain, benchRedisDbs } from './support';

const CLI = path.join(REPO, 'dist', 'src', 'cli', 'main.js');
const STACK_DIR = process.env.STACK_DIR || path.join(REPO, '.stack');

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '150000' },
    partitions: { type: 'string', default: '3' },
    counts: { type: 'string', default: '1,2,3' },
    users: { type: 'string', default: '50000' },
    'redis-db-base': { type: 'string', default: '10' },
    'timeout-s': { type: 'string', default: '1200' },
    'no-write': { type: 'boolean', default: false },
  },
  strict: true,
});
const int = (name: keyof typeof args, min: number, max: number): number => {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`--${name} must be an integer in [${min}, ${max}], got ${String(args[name])}`);
  return n;
};
const EVENTS = int('events', 1000, 10_000_000);
const PARTITIONS = int('partitions', 1, 64);
const COUNTS = String(args.counts)
  .split(',')
  .map((c) => Number(c.trim()));
if (COUNTS.length < 1 || COUNTS.some((n) => !Number.isInteger(n) || n < 1 || n > 16))
  throw new Error(`--counts must list instance counts in [1, 16], got ${String(args.counts)}`);
if (!COUNTS.includes(1)) COUNTS.unshift(1); // the ratios are to one instance
const USERS = int('users', 1, 10_000_000);
const DB_BASE = int('redis-db-base', 0, 13);
const TIMEOUT_MS = int('timeout-s', 10, 86_400) * 1000;
const DB = { session: DB_BASE, permissions: DB_BASE + 1, temp: DB_BASE + 2 };
const PREFIX = `inst${Date.now().toString(36)}`;
const DATABASE = 'mis';
const topicOf = (table: string) => `${PREFIX}.${DATABASE}.${table}`;
const USER_AUTH = topicOf('user_auth');

const round = (n: number, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits;
const load = () => os.loadavg().map((l) => round(l, 2));
const log = (msg: string) =>
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- CPU of processes, from /proc ------------------------------------------------------------

const TICKS_PER_S = 100; // USER_HZ on Linux

/** utime + stime of a process in seconds; 0 once it is gone. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S; // fields 14, 15 of stat
  } catch {
    return 0;
  }
}

/** The pid in one of the stack's pid files, when that process runs. */
function stackPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(STACK_DIR, file), 'utf8').trim());
    return pid > 0 && existsSync(`/proc/${pid}`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whole-machine busy CPU seconds (all cores) from /proc/stat. */
function machineBusySeconds(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/) ?? [];
  const [user, nice, system, , , irq, softirq, steal] = cpu.slice(1).map(Number);
  return (
    ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / 100
  );
}

// ---- fixtures --------------------------------------------------------------------------------

async function writeKeys(url: string): Promise<void> {
  const value = JSON.stringify({ menus: [{ id: 1, c: 'Y', r: 'Y', u: 'N', d: 'N' }] });
  for (const [db, family] of [
    [DB.session, 'session'],
    [DB.permissions, 'permissions'],
  ] as const) {
    const r = new Redis(url, { db });
    try {
      for (let u = 1; u <= USERS; u += 1000) {
        const pipe = r.pipeline();
        for (let v = u; v < Math.min(u + 1000, USERS + 1); v++)
          pipe.set(`${family}:user:${v}`, value, 'EX', 3600);
        await pipe.exec();
      }
    } finally {
      r.disconnect();
    }
  }
}

async function removeKeys(url: string): Promise<void> {
  for (const [db, family] of [
    [DB.session, 'session'],
    [DB.permissions, 'permissions'],
  ] as const) {
    const r = new Redis(url, { db });
    try {
      for (let u = 1; u <= USERS; u += 1000) {
        const keys = [];
        for (let v = u; v < Math.min(u + 1000, USERS + 1); v++) keys.push(`${family}:user:${v}`);
        await r.unlink(...keys);
      }
    } finally {
      r.disconnect();
    }
  }
}

async function produceBacklog(kafka: Kafka): Promise<{ ms: number; bytes: number }> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const t0 = Date.now();
  let bytes = 0;
  let batch: { key: Buffer; value: Buffer; headers: Record<string, string> }[] = [];
  let batchBytes = 0;
  const flush = async () => {
    if (batch.length > 0) await producer.send({ topic: USER_AUTH, messages: batch, acks: -1 });
    batch = [];
    batchBytes = 0;
  };
  try {
    const mix = {
      events: EVENTS,
      users: USERS,
      brands: 1,
      ordersShare: 0,
      brandsShare: 0,
      seed: 7,
    };
    for (const e of generateEvents(mix)) {
      batch.push({ key: e.key, value: e.value, headers: HEADERS });
      bytes += e.key.length + e.value.length;
      batchBytes += e.key.length + e.value.length;
      if (batchBytes > 900_000) await flush();
    }
    await flush();
  } finally {
    await producer.disconnect();
  }
  return { ms: Date.now() - t0, bytes };
}

/** Sum over the partitions of the group's committed offsets (0 where none yet). */
async function committed(admin: Admin, group: string): Promise<number> {
  const [t] = await admin.fetchOffsets({ groupId: group, topics: [USER_AUTH] });
  return (t?.partitions ?? []).reduce((a, p) => a + Math.max(0, Number(p.offset)), 0);
}

// ---- one drain -------------------------------------------------------------------------------

/** One instance process of a drain. */
interface InstanceFigures {
  /** Its `events_total` (all tables and operations) when the group had caught up. */
  readonly events: number;
  readonly partitions: number;
  /** Maximum resident set of the process (`/usr/bin/time` %M), MiB. */
  readonly peakRssMiB: number | null;
  /** utime + stime of the process over its whole life (`/usr/bin/time` %U + %S), seconds. */
  readonly cpuS: number | null;
  /** cpuS ÷ events, microseconds (start-up, rule loading, group join and shutdown included). */
  readonly cpuUsPerEvent: number | null;
  /** CPU (/proc) from its first group join to caught up, seconds, and ÷ events in µs. */
  readonly cpuJoinedToCaughtUpS: number;
  readonly cpuUsPerEventJoinedToCaughtUp: number | null;
}

interface Drain {
  readonly instances: number;
  readonly events: number;
  readonly wallS: number;
  readonly eventsPerSecWall: number;
  readonly steadyS: number;
  readonly eventsPerSecSteady: number;
  /** CPU over the wall time, in % of one core. */
  readonly cpuPercent: {
    readonly serviceProcesses: number;
    readonly perInstance: number[];
    readonly kafka: number | null;
    readonly redis: number | null;
    readonly wholeMachine: number;
  };
  readonly partitionsPerInstance: number[];
  readonly perInstance: InstanceFigures[];
  /** Keys the events must delete (session + permissions of every user in the backlog), and those left. */
  readonly keysExpected: number;
  readonly keysLeft: number;
  readonly loadAvgBefore: number[];
  readonly loadAvgAfter: number[];
}

interface Instance {
  /** The `/usr/bin/time` process. */
  readonly child: ChildProcess;
  readonly out: () => string;
  /** The service's node process (the child of `/usr/bin/time`), once known. */
  nodePid: () => number | undefined;
  /** CPU seconds of the node process when its log first said it joined the group. */
  cpuAtJoin: number | undefined;
  port: number | undefined;
}

const RUSAGE = 'MCS_BENCH_RUSAGE';

function startInstance(group: string, index: number): Instance {
  const child = spawn(
    '/usr/bin/time',
    ['-f', `${RUSAGE} utime=%U stime=%S maxrss_kb=%M`, process.execPath, CLI, 'run'],
    {
      cwd: REPO,
      env: {
        ...process.env,
        TOPIC_PREFIX: PREFIX,
        MYSQL_DATABASE: DATABASE,
        MCS_GROUP_ID: group,
        MCS_CLIENT_ID: `mcs-bench-${index}`,
        MCS_FROM_BEGINNING: 'true',
        MCS_ENSURE_TOPICS: 'false',
        MCS_REFRESH_FAMILIES: '',
        MCS_DAILY_STATS_CRON: '',
        MCS_SECOND_PASS_DELAY_MS: '0',
        MCS_STATS_INTERVAL_MS: '0',
        MCS_HTTP_PORT: '0',
        ...benchRedisDbs(DB),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let nodePid: number | undefined;
  const inst: Instance = {
    child,
    out: () => out,
    nodePid: () => {
      if (nodePid === undefined && child.pid) {
        try {
          const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8');
          const pid = Number(kids.trim().split(/\s+/)[0]);
          if (pid > 0) nodePid = pid;
        } catch {
          // not started yet, or gone
        }
      }
      return nodePid;
    },
    cpuAtJoin: undefined,
    port: undefined,
  };
  const onData = (d: Buffer) => {
    const text = d.toString('utf8');
    out += text;
    if (inst.cpuAtJoin === undefined && text.includes('"joined consumer group"')) {
      const pid = inst.nodePid();
      if (pid) inst.cpuAtJoin = cpuSeconds(pid);
    }
    if (inst.port === undefined) {
      const m = /"port":(\d+)[^\n]*metrics and health endpoint listening/.exec(out);
      if (m) inst.port = Number(m[1]);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return inst;
}

/** Sum of `events_total` on an instance's /metrics. */
async function scrapeEvents(port: number | undefined): Promise<number> {
  if (!port) return 0;
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await res.text();
  let n = 0;
  for (const line of text.split('\n'))
    if (/^mis_cache_sync_events_total[{ ]/.test(line)) n += Number(line.split(' ').pop());
  return n;
}

function rusage(out: string): { cpuS: number; peakRssMiB: number } | undefined {
  const m = new RegExp(`${RUSAGE} utime=([\\d.]+) stime=([\\d.]+) maxrss_kb=(\\d+)`).exec(out);
  if (!m) return undefined;
  return {
    cpuS: round(Number(m[1]) + Number(m[2]), 2),
    peakRssMiB: round(Number(m[3]) / 1024, 1),
  };
}

/** How many `user_auth` partitions an instance was last assigned, from its log (0: none). */
function assignedPartitions(out: string): number {
  let n = 0;
  for (const line of out.split('\n')) {
    if (!line.includes('"joined consumer group"')) continue;
    try {
      const { assigned } = JSON.parse(line) as { assigned?: Record<string, unknown[]> };
      n = assigned?.[USER_AUTH]?.length ?? 0;
    } catch {
      // not a JSON log line
    }
  }
  return n;
}

/** Distinct user ids of the backlog (the same generator and seed as produceBacklog). */
function backlogUsers(): number[] {
  const seen = new Set<number>();
  for (const e of generateEvents({
    events: EVENTS,
    users: USERS,
    brands: 1,
    ordersShare: 0,
    brandsShare: 0,
    seed: 7,
  })) {
    const v = JSON.parse(e.value.toString('utf8')) as { payload: { after: { user_id: number } } };
    seen.add(v.payload.after.user_id);
  }
  return [...seen];
}

/** The session and permission keys of these users still in Redis. */
async function keysLeft(url: string, users: readonly number[]): Promise<number> {
  let left = 0;
  for (const [db, family] of [
    [DB.session, 'session'],
    [DB.permissions, 'permissions'],
  ] as const) {
    const r = new Redis(url, { db });
    try {
      for (let i = 0; i < users.length; i += 1000)
        left += await r.exists(...users.slice(i, i + 1000).map((u) => `${family}:user:${u}`));
    } finally {
      r.disconnect();
    }
  }
  return left;
}

async function drain(
  admin: Admin,
  instances: number,
  redisUrl: string,
  users: readonly number[],
): Promise<Drain> {
  const group = `mcs-bench-${PREFIX}-x${instances}`;
  await writeKeys(redisUrl);
  const kafkaPid = stackPid('kafka/kafka.pid');
  const redisPid = stackPid('redis/redis.pid');
  const loadAvgBefore = load();
  const k0 = kafkaPid ? cpuSeconds(kafkaPid) : 0;
  const r0 = redisPid ? cpuSeconds(redisPid) : 0;
  const m0 = machineBusySeconds();
  const t0 = Date.now();
  const procs = Array.from({ length: instances }, (_, i) => startInstance(group, i));
  const lastCpu = procs.map(() => 0);
  const sample = () =>
    procs.forEach((p, i) => {
      const pid = p.nodePid();
      const s = pid ? cpuSeconds(pid) : 0;
      if (s > 0) lastCpu[i] = s;
    });
  let t10 = 0;
  let t90 = 0;
  let done = 0;
  let partitionsPerInstance: number[] = [];
  let handled: number[] = procs.map(() => 0);
  try {
    for (;;) {
      sample();
      procs.forEach((p, i) => {
        if (p.child.exitCode !== null)
          throw new Error(`instance ${i} exited ${p.child.exitCode}:\n${p.out().slice(-2000)}`);
      });
      // a coordinator still loading the group answers with a retriable error: ask again
      done = await committed(admin, group).catch(() => done);
      const now = Date.now();
      if (!t10 && done >= EVENTS * 0.1) t10 = now;
      if (!t90 && done >= EVENTS * 0.9) t90 = now;
      if (done >= EVENTS) break;
      if (now - t0 > TIMEOUT_MS)
        throw new Error(`${instances} instance(s): ${done} of ${EVENTS} after ${TIMEOUT_MS} ms`);
      await sleep(200);
    }
  } finally {
    sample();
    handled = await Promise.all(procs.map((p) => scrapeEvents(p.port).catch(() => 0)));
    partitionsPerInstance = procs.map((p) => assignedPartitions(p.out()));
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
            p.child.once('exit', () => resolve());
            const pid = p.nodePid();
            // SIGTERM to the service itself: /usr/bin/time then reports its usage and exits
            if (pid) process.kill(pid, 'SIGTERM');
            else p.child.kill('SIGTERM');
          }),
      ),
    );
  }
  const wallS = (Date.now() - t0) / 1000;
  const pct = (s: number) => round((s / wallS) * 100, 1);
  const steadyS = (t90 - t10) / 1000;
  const perInstance = procs.map((p, i): InstanceFigures => {
    const events = handled[i] ?? 0;
    const ru = rusage(p.out());
    const joined = round((lastCpu[i] ?? 0) - (p.cpuAtJoin ?? 0), 2);
    const perEvent = (s: number) => (events > 0 ? round((s / events) * 1e6, 1) : null);
    return {
      events,
      partitions: partitionsPerInstance[i] ?? 0,
      peakRssMiB: ru?.peakRssMiB ?? null,
      cpuS: ru?.cpuS ?? null,
      cpuUsPerEvent: ru ? perEvent(ru.cpuS) : null,
      cpuJoinedToCaughtUpS: joined,
      cpuUsPerEventJoinedToCaughtUp: perEvent(joined),
    };
  });
  const result: Drain = {
    instances,
    events: done,
    wallS: round(wallS, 2),
    eventsPerSecWall: round(done / wallS),
    steadyS: round(steadyS, 2),
    eventsPerSecSteady: round((EVENTS * 0.8) / Math.max(steadyS, 0.001)),
    cpuPercent: {
      serviceProcesses: pct(lastCpu.reduce((a, b) => a + b, 0)),
      perInstance: lastCpu.map(pct),
      kafka: kafkaPid ? pct(cpuSeconds(kafkaPid) - k0) : null,
      redis: redisPid ? pct(cpuSeconds(redisPid) - r0) : null,
      wholeMachine: pct(machineBusySeconds() - m0),
    },
    partitionsPerInstance,
    perInstance,
    keysExpected: users.length * 2,
    keysLeft: await keysLeft(redisUrl, users),
    loadAvgBefore,
    loadAvgAfter: load(),
  };
  await admin.deleteGroups([group]).catch(() => undefined);
  return result;
}

function describe(d: Drain): string {
  const c = d.cpuPercent;
  const each = d.perInstance
    .map(
      (p, i) =>
        `  #${i}: ${p.partitions} partition(s), ${p.events} events, peak RSS ${p.peakRssMiB ?? '?'} MiB, ` +
        `CPU ${p.cpuS ?? '?'} s → ${p.cpuUsPerEvent ?? '?'} µs/event ` +
        `(join → caught up ${p.cpuJoinedToCaughtUpS} s → ${p.cpuUsPerEventJoinedToCaughtUp ?? '?'} µs/event)`,
    )
    .join('\n');
  return (
    `${d.instances} instance(s): ${d.events} events, wall ${d.wallS} s → ${d.eventsPerSecWall} events/s; ` +
    `steady (10→90 %) ${d.steadyS} s → ${d.eventsPerSecSteady} events/s; CPU % of a core: ` +
    `service ${c.serviceProcesses} (${c.perInstance.join(' + ')}), Kafka ${c.kafka ?? '?'}, ` +
    `Redis ${c.redis ?? '?'}, whole machine ${c.wholeMachine} of ${os.cpus().length * 100}; ` +
    `keys deleted ${d.keysExpected - d.keysLeft} of ${d.keysExpected}; ` +
    `load ${d.loadAvgBefore.join(' ')} → ${d.loadAvgAfter.join(' ')}\n${each}`
  );
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: run npm run build`);
  const config = loadConfig({ cwd: REPO });
  const kafka = new Kafka({
    clientId: 'mcs-bench-instances',
    brokers: [...config.kafka.brokers],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  // the rules the service processes load (dist/consumers holds the YAML rules too)
  const tables = loadRules(path.join(REPO, 'dist', 'consumers')).tables;
  const brokers = (await admin.describeCluster()).brokers.length;
  log(
    `${EVENTS} user_auth events on ${PARTITIONS} partitions, ${COUNTS.join(', ')} instance(s), ` +
      `${brokers} broker(s), ${os.cpus().length} cores, load ${load().join(' ')}`,
  );
  const users = backlogUsers();
  const drains: Drain[] = [];
  let produced = { ms: 0, bytes: 0 };
  try {
    await admin.createTopics({
      topics: tables.map((t) => ({
        topic: topicOf(t),
        numPartitions: t === 'user_auth' ? PARTITIONS : 1,
        replicationFactor: Math.min(brokers, 3),
      })),
      waitForLeaders: true,
    });
    produced = await produceBacklog(kafka);
    log(
      `produced ${EVENTS} events, ${round(produced.bytes / 2 ** 20, 1)} MiB in ${produced.ms} ms`,
    );
    const offsets = await admin.fetchTopicOffsets(USER_AUTH);
    log(`per partition: ${offsets.map((o) => Number(o.high) - Number(o.low)).join(', ')}`);
    for (const n of COUNTS) {
      const d = await drain(admin, n, config.redis.url, users);
      drains.push(d);
      log(describe(d));
    }
  } finally {
    await removeKeys(config.redis.url).catch(() => undefined);
    await admin.deleteTopics({ topics: tables.map(topicOf) }).catch(() => undefined);
    await admin.disconnect();
  }
  const one = drains.find((d) => d.instances === 1) as Drain;
  const ratios = drains.map((d) => ({
    instances: d.instances,
    steady: round(d.eventsPerSecSteady / one.eventsPerSecSteady, 2),
    wall: round(d.eventsPerSecWall / one.eventsPerSecWall, 2),
  }));
  const allDeleted = drains.every((d) => d.keysLeft === 0);
  console.log('');
  for (const [i, d] of drains.entries()) {
    const r = ratios[i];
    const us = d.perInstance.map((p) => p.cpuUsPerEvent ?? '?').join('/');
    const rss = d.perInstance.map((p) => p.peakRssMiB ?? '?').join('/');
    console.log(
      `INSTANCES ${d.instances}: ${d.eventsPerSecSteady} events/s steady (${r?.steady}× one), ` +
        `${d.eventsPerSecWall} wall (${r?.wall}×); CPU µs/event ${us}; peak RSS MiB ${rss}; ` +
        `keys deleted ${d.keysExpected - d.keysLeft}/${d.keysExpected}`,
    );
  }
  console.log(
    `${PARTITIONS} partitions, ${os.cpus().length} cores, every expected key deleted: ${allDeleted}, ` +
      `load ${load().join(' ')}\n`,
  );
  if (!args['no-write']) {
    const result = {
      date: new Date().toISOString(),
      events: EVENTS,
      partitions: PARTITIONS,
      counts: COUNTS,
      brokers,
      cores: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '?',
      node: process.version,
      producedMiB: round(produced.bytes / 2 ** 20, 1),
      drains,
      ratios,
      allKeysDeleted: allDeleted,
    };
    log(`results appended to ${appendResult('instances', result.date, result)}`);
  }
  if (!allDeleted) process.exitCode = 1;
}

runMain(main);
