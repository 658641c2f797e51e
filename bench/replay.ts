/**
 * Replay benchmark (issue 9): `mis-cache-sync replay --from earliest` over a retained backlog of
 * `--events` Debezium-shaped events, against the raw consume+parse ceiling of kafkajs measured in
 * the same run on the same topics.
 *
 * The events come from bench/generate.ts (the throughput bench's generator: JSON converter with
 * schemas, ~3.8 kB each, 95 % user_auth updates, 4.5 % trade_orders creates, 0.5 % brands
 * updates), produced straight to topics `<prefix>.mis.<table>` of one partition each (the same
 * way as `npm run bench`: writing a million rows through MariaDB would take far longer than the
 * replay it feeds). Redis DBs 10/11 (as `npm run bench`) hold the keys the events dirty.
 *
 * Each run:
 * 1. ceiling: a kafkajs consumer (fresh group, from the beginning, eachBatch) that only
 *    `JSON.parse`s every value, until every partition's end;
 * 2. replay: the built CLI (`node dist/src/cli/main.js replay --from earliest --tables …`) as its
 *    own process under /usr/bin/time (peak RSS = its maximum resident set), RSS sampled each
 *    second from /proc for the timeline;
 * and the ratio replay / ceiling. `--reuse <prefix>` runs again on topics left by `--keep`.
 * Appends to bench/results/<date>-replay.json.
 */
import Redis from 'ioredis';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { execSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config/config';
import { BENCH_TABLES, HEADERS, generateEvents, orderDays, type MixOptions } from './generate';
import { REPO, TopicBatcher, appendResult, benchRedisDbs } from './support';

interface Args {
  events: number;
  users: number;
  ordersShare: number;
  brandsShare: number;
  reuse: string;
  keep: boolean;
  write: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    events: 1_000_000,
    users: 50_000,
    ordersShare: 0.045,
    brandsShare: 0.005,
    reuse: '',
    keep: false,
    write: true,
  };
  const numeric: Record<string, 'events' | 'users' | 'ordersShare' | 'brandsShare'> = {
    '--events': 'events',
    '--users': 'users',
    '--orders-share': 'ordersShare',
    '--brands-share': 'brandsShare',
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i] ?? '';
    const field = numeric[k];
    if (k === '--no-write') a.write = false;
    else if (k === '--keep') a.keep = true;
    else if (k === '--reuse') a.reuse = argv[++i] ?? '';
    else if (field) a[field] = Number(argv[++i]);
    else throw new Error(`unknown option ${k}`);
  }
  return a;
}

const DB = { session: 10, permissions: 11, temp: 12 };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const load = () => loadavg().map((x) => Number(x.toFixed(2)));
const log = (msg: string) =>
  console.log(`[replay-bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);

async function produce(kafka: Kafka, mix: MixOptions, topicOf: (t: string) => string) {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const started = performance.now();
  const batcher = new TopicBatcher(producer, 900_000);
  try {
    for (const e of generateEvents(mix))
      await batcher.push(topicOf(e.table), { key: e.key, value: e.value, headers: HEADERS });
    await batcher.flush();
  } finally {
    await producer.disconnect();
  }
  return { seconds: (performance.now() - started) / 1000, bytes: batcher.bytes };
}

async function ends(admin: Admin, topics: string[]) {
  const out = new Map<string, bigint>();
  for (const topic of topics)
    for (const o of await admin.fetchTopicOffsets(topic))
      if (o.high !== o.low) out.set(`${topic}:${o.partition}`, BigInt(o.high));
  return out;
}

/** kafkajs fetch + JSON.parse of every value and nothing else: the ceiling of this client. */
async function ceiling(kafka: Kafka, admin: Admin, topics: string[], prefix: string) {
  const pending = await ends(admin, topics);
  const total = Number([...pending.values()].reduce((n, e) => n + e, 0n));
  const groupId = `bench-replay-ceiling-${prefix}-${Date.now().toString(36)}`;
  const consumer = kafka.consumer({ groupId });
  let events = 0;
  let firstBatchAt = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((r) => (finish = r));
  const started = performance.now();
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      firstBatchAt ||= performance.now();
      for (const m of batch.messages) {
        if (m.value) JSON.parse(m.value.toString());
        events++;
      }
      const end = pending.get(`${batch.topic}:${batch.partition}`);
      if (end !== undefined && BigInt(batch.lastOffset()) >= end - 1n)
        pending.delete(`${batch.topic}:${batch.partition}`);
      if (pending.size === 0) finish();
    },
  });
  await done;
  const seconds = (performance.now() - started) / 1000;
  const afterJoin = (performance.now() - firstBatchAt) / 1000;
  await consumer.disconnect();
  await admin.deleteGroups([groupId]).catch(() => undefined);
  return {
    events,
    total,
    seconds: Number(seconds.toFixed(1)),
    eventsPerSecond: Math.round(events / seconds),
    eventsPerSecondAfterFirstBatch: Math.round(events / afterJoin),
  };
}

/** The CLI's replay as its own process; peak RSS from /usr/bin/time, a timeline from /proc. */
async function replayProcess(env: NodeJS.ProcessEnv, tables: readonly string[]) {
  const main = path.join(REPO, 'dist', 'src', 'cli', 'main.js');
  const args = ['-f', 'maxrss_kb=%M', process.execPath, main, 'replay', '--from', 'earliest'];
  const child = spawn('/usr/bin/time', [...args, '--tables', tables.join(',')], {
    cwd: REPO,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const started = performance.now();
  const timeline: { s: number; rssMiB: number }[] = [];
  const sampler = setInterval(() => {
    try {
      const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim();
      const status = readFileSync(`/proc/${kids.split(' ')[0]}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      timeline.push({
        s: Math.round((performance.now() - started) / 1000),
        rssMiB: Math.round(kb / 1024),
      });
    } catch {
      // not started yet or gone
    }
  }, 1000);
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  clearInterval(sampler);
  const wall = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`replay exited ${code}: ${stderr.slice(-2000)}`);
  // "replayed N event(s) from P partition(s) in S s: O operation(s) applied (distinct per
  // batch), D key(s) deleted, …" ("O distinct operation(s)" before 2026-11-27's change)
  const m =
    /replayed (\d+) event\(s\) from (\d+) partition\(s\) in ([\d.]+) s: (\d+) (?:distinct operation\(s\)|operation\(s\) applied \(distinct per batch\)), (\d+) key\(s\) deleted, (\d+) refreshed, (\d+) rejected/.exec(
      stdout,
    );
  if (!m) throw new Error(`unexpected replay output: ${stdout}`);
  const events = Number(m[1]);
  const seconds = Number(m[3]);
  return {
    summary: stdout.trim().split('\n')[0],
    events,
    partitions: Number(m[2]),
    seconds,
    eventsPerSecond: Math.round(events / seconds),
    processWallSeconds: Number(wall.toFixed(1)),
    operations: Number(m[4]),
    deleted: Number(m[5]),
    rejected: Number(m[7]),
    peakRssMiB: Math.round(Number(/maxrss_kb=(\d+)/.exec(stderr)?.[1] ?? NaN) / 1024),
    rssTimeline: timeline.filter((_, i) => i % 5 === 0),
  };
}

function benchKeys(users: number) {
  const session: string[] = [];
  const p: string[] = ['master:brands'];
  for (let u = 1; u <= users; u++) {
    p.push(`permissions:user:${u}`);
    session.push(`session:user:${u}`);
  }
  const { days, months } = orderDays();
  for (const d of days) p.push(`stats:daily_sales:${d}`);
  for (const m of months) p.push(`stats:monthly_revenue:${m}`);
  for (let b = 1; b <= 20; b++)
    for (const s of ['daily_sales', 'orders']) {
      p.push(`stats:${s}:brand:${b}`);
      for (const m of months) p.push(`stats:${s}:brand:${b}:${m}`);
    }
  return new Map([
    [DB.session, session],
    [DB.permissions, p],
  ]);
}

async function fillRedis(url: string, keys: Map<number, string[]>, del = false) {
  for (const [db, list] of keys) {
    const r = new Redis(url, { db });
    for (let i = 0; i < list.length; i += 1000) {
      const chunk = list.slice(i, i + 1000);
      if (del) await r.unlink(...chunk);
      else {
        const pipe = r.pipeline();
        for (const k of chunk) pipe.set(k, '{"menus":[1,2,3]}', 'EX', 3600);
        await pipe.exec();
      }
    }
    r.disconnect();
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const prefix = args.reuse || `replay${Date.now().toString(36)}`;
  const tables = [...BENCH_TABLES];
  const env = {
    ...process.env,
    TOPIC_PREFIX: prefix,
    MCS_GROUP_ID: `bench-replay-${prefix}`,
    MCS_REFRESH_FAMILIES: '',
    LOG_LEVEL: 'warn',
    ...benchRedisDbs(DB),
  };
  const config = loadConfig({ cwd: REPO, env });
  const topicOf = (t: string) => `${prefix}.${config.kafka.database}.${t}`;
  const topics = tables.map(topicOf);
  const kafka = new Kafka({
    clientId: 'bench-replay',
    brokers: [...config.kafka.brokers],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const loadAtStart = load();
  log(`prefix ${prefix}, ${JSON.stringify(args)}, load ${loadAtStart.join(' ')}`);
  const mix: MixOptions = {
    events: args.events,
    users: args.users,
    brands: 20,
    ordersShare: args.ordersShare,
    brandsShare: args.brandsShare,
    seed: 42,
  };
  let produced: { seconds: number; bytes: number } | undefined;
  if (!args.reuse) {
    await admin.createTopics({
      topics: topics.map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })),
      waitForLeaders: true,
    });
    produced = await produce(kafka, mix, topicOf);
    log(
      `produced ${args.events} events (${Math.round(produced.bytes / 1048576)} MiB) in ${produced.seconds.toFixed(1)} s`,
    );
  }
  const keys = benchKeys(args.users);
  await fillRedis(config.redis.url, keys);

  const c = await ceiling(kafka, admin, topics, prefix);
  log(`ceiling: ${c.events} events in ${c.seconds} s = ${c.eventsPerSecond}/s`);
  const loadAtReplay = load();
  const r = await replayProcess(env, tables);
  log(`replay: ${r.summary}; peak RSS ${r.peakRssMiB} MiB`);
  const loadAtEnd = load();

  const result = {
    at: new Date().toISOString(),
    head: execSync('git rev-parse --short HEAD', { cwd: REPO }).toString().trim(),
    node: process.version,
    cores: cpus().length,
    loadAtStart,
    loadAtReplay,
    loadAtEnd,
    args,
    prefix,
    produced: produced
      ? {
          seconds: Number(produced.seconds.toFixed(1)),
          mib: Math.round(produced.bytes / 1048576),
          how: 'generated (bench/generate.ts) and produced straight to Kafka',
        }
      : 'reused the topics of an earlier run (--reuse)',
    redisKeys: [...keys.values()].reduce((n, l) => n + l.length, 0),
    ceiling: c,
    replay: r,
    ratio: Number((r.eventsPerSecond / c.eventsPerSecond).toFixed(2)),
  };
  console.log(JSON.stringify({ ...result, replay: { ...r, rssTimeline: undefined } }, null, 2));
  console.log(
    `| ${result.at.slice(0, 16)} | ${r.events} events | ceiling ${c.eventsPerSecond}/s | replay ${r.eventsPerSecond}/s (${r.seconds} s) | ratio ${result.ratio} | peak RSS ${r.peakRssMiB} MiB | load ${loadAtReplay.join(' ')} → ${loadAtEnd.join(' ')} |`,
  );
  if (args.write) {
    log(`written to ${appendResult('replay', result.at, result)}`);
  }

  await fillRedis(config.redis.url, keys, true);
  if (!args.keep) await admin.deleteTopics({ topics }).catch(() => undefined);
  else log(`topics kept: --reuse ${prefix} runs again on them`);
  await admin.disconnect();
  await sleep(100);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
