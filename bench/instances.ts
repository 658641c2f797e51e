/**
 * Throughput of several service instances against one, on a backlog spread over six partitions:
 *
 *   npm run bench:instances -- [--events 120000] [--partitions 6] [--instances 3] [--users 50000]
 *                              [--redis-db-base 10] [--timeout-s 1200] [--no-write]
 *
 * One backlog of Debezium-shaped `user_auth` updates (bench/generate.ts, JSON with schemas) is
 * produced once to a `user_auth` topic of its own with `--partitions` partitions. Then it is
 * drained twice from the beginning, each time by a fresh consumer group of real service
 * processes (`node dist/src/cli/main.js run`): first by 1 instance, then by `--instances`
 * instances started together. The Redis keys the events invalidate are written again before
 * each drain, so both drains delete the same keys.
 *
 * Printed for each drain: events/s from start to caught up (wall, includes start-up and group
 * joins) and in steady state (committed offsets from 10 % to 90 % of the backlog), the CPU the
 * service processes, Kafka and Redis used during the drain (from /proc, in % of one core), and the
 * machine's load average; then the ratio N : 1. The CPU figures say what bounds the ratio: on a
 * machine with 2 cores, once the service processes, the broker and Redis together use both cores,
 * more instances only share the same CPU.
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
    events: { type: 'string', default: '120000' },
    partitions: { type: 'string', default: '6' },
    instances: { type: 'string', default: '3' },
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
const INSTANCES = int('instances', 2, 16);
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
  readonly loadAvgBefore: number[];
  readonly loadAvgAfter: number[];
}

function startInstance(group: string, index: number): { child: ChildProcess; out: () => string } {
  const child = spawn('node', [CLI, 'run'], {
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
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  return { child, out: () => out };
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

async function drain(admin: Admin, instances: number, redisUrl: string): Promise<Drain> {
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
  let t10 = 0;
  let t90 = 0;
  let done = 0;
  let partitionsPerInstance: number[] = [];
  try {
    for (;;) {
      procs.forEach((p, i) => {
        const s = p.child.pid ? cpuSeconds(p.child.pid) : 0;
        if (s > 0) lastCpu[i] = s;
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
    procs.forEach((p, i) => {
      const s = p.child.pid ? cpuSeconds(p.child.pid) : 0;
      if (s > 0) lastCpu[i] = s;
    });
    partitionsPerInstance = procs.map((p) => assignedPartitions(p.out()));
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
            p.child.once('exit', () => resolve());
            p.child.kill('SIGTERM');
          }),
      ),
    );
  }
  const wallS = (Date.now() - t0) / 1000;
  const pct = (s: number) => round((s / wallS) * 100, 1);
  const steadyS = (t90 - t10) / 1000;
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
    loadAvgBefore,
    loadAvgAfter: load(),
  };
  await admin.deleteGroups([group]).catch(() => undefined);
  return result;
}

function describe(d: Drain): string {
  const c = d.cpuPercent;
  return (
    `${d.instances} instance(s): ${d.events} events, wall ${d.wallS} s → ${d.eventsPerSecWall} events/s; ` +
    `steady (10→90 %) ${d.steadyS} s → ${d.eventsPerSecSteady} events/s; CPU % of a core: ` +
    `service ${c.serviceProcesses} (${c.perInstance.join(' + ')}), Kafka ${c.kafka ?? '?'}, ` +
    `Redis ${c.redis ?? '?'}, whole machine ${c.wholeMachine} of ${os.cpus().length * 100}; ` +
    `load ${d.loadAvgBefore.join(' ')} → ${d.loadAvgAfter.join(' ')}`
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
    `${EVENTS} user_auth events on ${PARTITIONS} partitions, 1 vs ${INSTANCES} instances, ` +
      `${brokers} broker(s), ${os.cpus().length} cores, load ${load().join(' ')}`,
  );
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
    for (const n of [1, INSTANCES]) {
      const d = await drain(admin, n, config.redis.url);
      drains.push(d);
      log(describe(d));
    }
  } finally {
    await removeKeys(config.redis.url).catch(() => undefined);
    await admin.deleteTopics({ topics: tables.map(topicOf) }).catch(() => undefined);
    await admin.disconnect();
  }
  const [one, many] = drains as [Drain, Drain];
  const ratioWall = round(many.eventsPerSecWall / one.eventsPerSecWall, 2);
  const ratioSteady = round(many.eventsPerSecSteady / one.eventsPerSecSteady, 2);
  console.log(
    `\nINSTANCES ratio ${INSTANCES}:1 = ${ratioSteady}× steady, ${ratioWall}× wall ` +
      `(${many.eventsPerSecSteady} vs ${one.eventsPerSecSteady} events/s steady; ` +
      `${many.eventsPerSecWall} vs ${one.eventsPerSecWall} wall), ${PARTITIONS} partitions, ` +
      `${os.cpus().length} cores, load ${load().join(' ')}\n`,
  );
  if (!args['no-write']) {
    const result = {
      date: new Date().toISOString(),
      events: EVENTS,
      partitions: PARTITIONS,
      brokers,
      cores: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '?',
      node: process.version,
      producedMiB: round(produced.bytes / 2 ** 20, 1),
      drains,
      ratioSteady,
      ratioWall,
    };
    log(`results appended to ${appendResult('instances', result.date, result)}`);
  }
}

runMain(main);
