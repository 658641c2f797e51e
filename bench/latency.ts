/**
 * Latency under load (issue 9): commit → key deleted through the real Debezium path while a
 * writer sustains `--rate` row changes per second.
 *
 * On the local stack (`.stack/env`):
 * - the service runs as its own process (`node dist/src/cli/main.js run`, its defaults, a fresh
 *   consumer group starting at the end of the topics), so the bench's writer and probes do not
 *   share its event loop;
 * - a writer changes `--rate` rows/s of bench-owned rows of five ruled tables (user_auth, users,
 *   products updates; trade_orders, serials inserts) in small autocommit statements every
 *   `--tick-ms`;
 * - a probe starts every `--probe-ms` (open loop: it does not wait for earlier probes): it plants
 *   `permissions:user:{u}` (DB 1) for a user of its own, commits a `user_auth` update of that user
 *   (which must delete the key) on a connection of its own and takes the time from the commit's
 *   return to the key's `del` keyspace notification (`notify-keyspace-events` holds `g` on the
 *   stack). One user per probe: the service's delayed second pass (1 s) of an earlier probe never
 *   deletes a later probe's key, and a slow probe does not thin out the samples;
 * - a tap consumer (kafkajs, own group) on the user_auth topic notes when each probe event is
 *   readable in Kafka and its record timestamp, to split the latency into Debezium + Connect
 *   (commit → readable) and the service (readable → deleted).
 * First `--idle-seconds` of probes with the writer off, then `--warmup-seconds` of load
 * unrecorded, then `--seconds` measured. Appends to bench/results/<date>-latency.json.
 */
import connect, { sql, type ConnectionPool, type SQLQuery } from '@databases/mysql';
import Redis from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { spawn, execSync, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config/config';
import { REPO, appendResult } from './support';

interface Args {
  rate: number;
  seconds: number;
  warmupSeconds: number;
  idleSeconds: number;
  probeMs: number;
  tickMs: number;
  httpPort: number;
  write: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    rate: 1000,
    seconds: 60,
    warmupSeconds: 10,
    idleSeconds: 10,
    probeMs: 100,
    tickMs: 50,
    httpPort: Number(process.env.BENCH_HTTP_PORT ?? 0),
    write: true,
  };
  const numeric: Record<string, keyof Args> = {
    '--rate': 'rate',
    '--seconds': 'seconds',
    '--warmup-seconds': 'warmupSeconds',
    '--idle-seconds': 'idleSeconds',
    '--probe-ms': 'probeMs',
    '--tick-ms': 'tickMs',
    '--http-port': 'httpPort',
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i] ?? '';
    if (k === '--no-write') {
      a.write = false;
      continue;
    }
    const field = numeric[k];
    const v = Number(argv[i + 1]);
    if (!field || !Number.isFinite(v)) throw new Error(`bad option ${k} ${argv[i + 1]}`);
    (a[field] as number) = v;
    i++;
  }
  return a;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const load = () => loadavg().map((x) => Number(x.toFixed(2)));
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
function summary(values: number[]) {
  const s = [...values].sort((x, y) => x - y);
  const r = (x: number) => Math.round(x * 10) / 10;
  return {
    n: s.length,
    p50: r(pct(s, 50)),
    p90: r(pct(s, 90)),
    p99: r(pct(s, 99)),
    max: r(s[s.length - 1] ?? NaN),
  };
}

// ---- the service process ----------------------------------------------------------------------

function startServiceProcess(env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const main = path.join(REPO, 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} missing: npm run build first`);
  const out = openSync(logFile, 'w');
  return spawn(process.execPath, [main, 'run'], { cwd: REPO, env, stdio: ['ignore', out, out] });
}

async function waitReady(port: number, child: ChildProcess, timeoutMs = 180_000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error('service not ready in time');
}

/** utime+stime (clock ticks) and RSS (pages) of a process, from /proc. */
function procStat(pid: number): { ticks: number; rssMiB: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { ticks, rssMiB: Math.round((Number(fields[21]) * 4096) / 1048576) };
}

const list = (ids: readonly number[]) =>
  sql.join(
    ids.map((id) => sql`${id}`),
    ', ',
  );

// ---- the writer ---------------------------------------------------------------------------------

interface Owned {
  readonly users: number[];
  readonly authIds: number[];
  readonly productIds: number[];
}

/** Per tick: rows of each table, in the shares of a MIS working day (permissions dominate). */
function tickStatements(
  owned: Owned,
  token: string,
  perTick: number,
  n: number,
): { rows: number; statements: SQLQuery[] } {
  const take = <T>(list: readonly T[], count: number, offset: number): T[] =>
    Array.from({ length: count }, (_, i) => list[(offset + i) % list.length] as T);
  const auth = Math.max(1, Math.round(perTick * 0.5));
  const orders = Math.max(1, Math.round(perTick * 0.2));
  const users = Math.max(1, Math.round(perTick * 0.1));
  const products = Math.max(1, Math.round(perTick * 0.1));
  const serials = Math.max(1, perTick - auth - orders - users - products);
  const today = new Date().toISOString().slice(0, 10);
  const o = n * perTick;
  const statements = [
    sql`UPDATE user_auth SET update_yn = IF(update_yn = 'Y', 'N', 'Y') WHERE auth_id IN (${list(take(owned.authIds, auth, o))})`,
    sql`INSERT INTO trade_orders (order_no, order_date, brand_id, channel, amount) VALUES ${sql.join(
      Array.from(
        { length: orders },
        (_, i) =>
          sql`(${`${token}-${o + i}`}, ${today}, ${1 + ((o + i) % 3)}, 'bench', ${1000 + i})`,
      ),
      ', ',
    )}`,
    sql`UPDATE users SET dept_id = 5 - dept_id WHERE user_id IN (${list(take(owned.users, users, o))})`,
    sql`UPDATE products SET product_name = ${`p${n}`} WHERE product_id IN (${list(take(owned.productIds, products, o))})`,
    sql`INSERT INTO serials (serial_no, brand_code, product_id, created_date) VALUES ${sql.join(
      Array.from(
        { length: serials },
        (_, i) => sql`(${`${token}-${o + i}`}, 'REAN', ${owned.productIds[0] ?? 0}, ${today})`,
      ),
      ', ',
    )}`,
  ];
  return { rows: auth + orders + users + products + serials, statements };
}

// ---- main ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const token = `bl${Date.now().toString(36)}`;
  const config = loadConfig({ cwd: REPO, env: process.env });
  const loadAtStart = load();
  console.log(`latency bench ${token}: ${JSON.stringify(args)}; load ${loadAtStart.join(' ')}`);

  const db: ConnectionPool = connect({
    connectionString: config.mysql.url,
    bigIntMode: 'number',
    poolSize: 8,
  });
  // The probe's own connection: its commit never queues behind the writer's statements.
  const probeDb: ConnectionPool = connect({
    connectionString: config.mysql.url,
    bigIntMode: 'number',
    poolSize: 4,
  });
  const permDb = config.redis.db.permissions;
  const redis = new Redis(config.redis.url, { db: permDb });
  const sub = new Redis(config.redis.url);

  // 1. Own rows: a probe user per probe (one grant each), 1,000 writer users with 5 grants each,
  //    200 products in categories of their own.
  const base = 700_000_000 + Math.floor(Math.random() * 10_000) * 10_000;
  const probeCount = Math.min(
    2000,
    Math.ceil(((args.idleSeconds + args.warmupSeconds + args.seconds + 60) * 1000) / args.probeMs),
  );
  const probeUsers = Array.from({ length: probeCount }, (_, i) => base + i);
  const probeSet = new Set(probeUsers);
  const writerUsers = Array.from({ length: 1000 }, (_, i) => base + 2000 + i);
  const allUsers = [...probeUsers, ...writerUsers];
  for (let i = 0; i < allUsers.length; i += 500) {
    const chunk = allUsers.slice(i, i + 500);
    await db.query(
      sql`INSERT INTO users (user_id, username, dept_id, use_yn) VALUES ${sql.join(
        chunk.map((u) => sql`(${u}, ${`${token}${u}`}, 2, 'Y')`),
        ', ',
      )}`,
    );
    await db.query(
      sql`INSERT INTO user_auth (user_id, menu_id, read_yn) VALUES ${sql.join(
        chunk.flatMap((u) =>
          probeSet.has(u)
            ? [sql`(${u}, 1, 'Y')`]
            : [1, 2, 3, 4, 5].map((m) => sql`(${u}, ${m}, 'Y')`),
        ),
        ', ',
      )}`,
    );
  }
  const authRows = await db.query(
    sql`SELECT auth_id, user_id FROM user_auth WHERE user_id BETWEEN ${base} AND ${base + 2999}`,
  );
  const probeAuth = new Map<number, number>(); // user → auth_id
  const writerAuth: number[] = [];
  for (const r of authRows as { auth_id: number; user_id: number }[]) {
    if (r.user_id < base + 2000) probeAuth.set(r.user_id, r.auth_id);
    else writerAuth.push(r.auth_id);
  }
  await db.query(
    sql`INSERT INTO products (category_id, brand_id, product_name) VALUES ${sql.join(
      Array.from({ length: 200 }, (_, i) => sql`(${base + (i % 20)}, 1, ${`${token}-${i}`})`),
      ', ',
    )}`,
  );
  const productIds = (
    (await db.query(
      sql`SELECT product_id FROM products WHERE product_name LIKE ${`${token}-%`}`,
    )) as { product_id: number }[]
  ).map((r) => r.product_id);
  const owned: Owned = { users: writerUsers, authIds: writerAuth, productIds };
  console.log(
    `rows: ${allUsers.length} users, ${authRows.length} grants, ${productIds.length} products`,
  );

  // 2. The service, its own group from the end of the topics.
  const port = args.httpPort || 40000 + Math.floor(Math.random() * 20000);
  const serviceEnv = {
    ...process.env,
    MCS_GROUP_ID: `bench-latency-${token}`,
    MCS_FROM_BEGINNING: 'false',
    MCS_HTTP_PORT: String(port),
    MCS_STATS_INTERVAL_MS: '0',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  const logFile = path.join(REPO, '.stack', `bench-latency-${token}.log`);
  const service = startServiceProcess(serviceEnv, logFile);
  const kafka = new Kafka({
    clientId: 'bench-latency',
    brokers: [...config.kafka.brokers],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  const tap = kafka.consumer({ groupId: `bench-latency-tap-${token}` });
  const topic = `${config.kafka.topicPrefix}.${config.kafka.database}.user_auth`;
  try {
    await waitReady(port, service);
    console.log(`service ready (pid ${service.pid}, log ${path.relative(REPO, logFile)})`);

    // 3. The tap: when each probe event is readable, and its record timestamp.
    const probeGrants = new Set(probeAuth.values());
    const seen: { auth: number; at: number; recordTs: number }[] = [];
    await admin.connect();
    await tap.connect();
    await tap.subscribe({ topics: [topic], fromBeginning: false });
    const tapJoined = new Promise<void>((r) => tap.on(tap.events.GROUP_JOIN, () => r()));
    await tap.run({
      eachBatch: async ({ batch }) => {
        const at = Date.now();
        for (const m of batch.messages) {
          const auth = Number(/"auth_id":(\d+)\}\}$/.exec(m.key?.toString() ?? '')?.[1]);
          if (probeGrants.has(auth)) seen.push({ auth, at, recordTs: Number(m.timestamp) });
        }
      },
    });
    await tapJoined;

    // 4. Keyspace notifications of the probe keys.
    const waiting = new Map<string, (at: number) => void>();
    sub.on('message', (channel: string, event: string) => {
      if (event !== 'del') return;
      const at = Date.now();
      const key = channel.slice(channel.indexOf(':') + 1);
      waiting.get(key)?.(at);
    });
    await sub.subscribe(...probeUsers.map((u) => `__keyspace@${permDb}__:permissions:user:${u}`));

    interface Probe {
      user: number;
      phase: 'start' | 'idle' | 'warmup' | 'load';
      sentAt: number;
      committedAt: number;
      deletedAt: number;
    }
    const probes: Probe[] = [];
    let phase: Probe['phase'] = 'start';
    let stopProbes = false;
    // Open loop: a probe starts every probeMs whatever the earlier ones wait for, each on a user
    // of its own (so neither a slow earlier probe nor the delayed second pass touches its key).
    const launched: Promise<void>[] = [];
    const probe = async (user: number): Promise<void> => {
      const key = `permissions:user:${user}`;
      await redis.set(key, 'probe', 'EX', 600);
      const gone = new Promise<number>((resolve) => {
        const timer = setTimeout(() => resolve(NaN), 60_000);
        waiting.set(key, (at) => {
          clearTimeout(timer);
          resolve(at);
        });
      });
      const probePhase = phase;
      const sentAt = Date.now();
      await probeDb.query(
        sql`UPDATE user_auth SET create_yn = IF(create_yn = 'Y', 'N', 'Y') WHERE auth_id = ${probeAuth.get(user)}`,
      );
      const committedAt = Date.now();
      const deletedAt = await gone;
      waiting.delete(key);
      probes.push({ user, phase: probePhase, sentAt, committedAt, deletedAt });
    };
    const probeLoop = (async () => {
      let next = performance.now();
      for (let i = 0; !stopProbes; i++) {
        launched.push(probe(probeUsers[i % probeUsers.length] as number));
        next += args.probeMs;
        const rest = next - performance.now();
        if (rest > 0) await sleep(rest);
      }
    })();

    // 5. Start-up (until a probe is deleted within 1 s: group joined, caches warm), idle probes,
    //    then the writer: warm-up, then the measured window.
    const startedAt = Date.now();
    while (!probes.some((p) => p.deletedAt - p.committedAt < 1000)) {
      if (Date.now() - startedAt > 300_000) throw new Error('no probe deleted within 1 s in 5 min');
      await sleep(100);
    }
    const startupMs = Date.now() - startedAt;
    console.log(`first probe under 1 s after ${startupMs} ms`);
    phase = 'idle';
    await sleep(args.idleSeconds * 1000);
    const perTick = Math.max(5, Math.round((args.rate * args.tickMs) / 1000));
    let stopWriter = false;
    let issuedRows = 0;
    let doneRows = 0;
    let failed = 0;
    let skippedTicks = 0;
    let inFlight = 0;
    const writerLoop = (async () => {
      let next = performance.now();
      for (let n = 0; !stopWriter; n++) {
        if (inFlight > 40) skippedTicks++;
        else {
          const tick = tickStatements(owned, token, perTick, n);
          issuedRows += tick.rows;
          inFlight++;
          void Promise.all(tick.statements.map((s) => db.query(s)))
            .then(
              () => (doneRows += tick.rows),
              () => failed++,
            )
            .finally(() => inFlight--);
        }
        next += args.tickMs;
        const wait = next - performance.now();
        if (wait > 0) await sleep(wait);
      }
    })();
    phase = 'warmup';
    await sleep(args.warmupSeconds * 1000);
    const offsetsOf = async () => {
      let sum = 0;
      for (const t of ['user_auth', 'users', 'products', 'trade_orders', 'serials']) {
        const offs = await admin.fetchTopicOffsets(
          `${config.kafka.topicPrefix}.${config.kafka.database}.${t}`,
        );
        for (const o of offs) sum += Number(o.high);
      }
      return sum;
    };
    const svcBefore = procStat(service.pid as number);
    const kafkaBefore = await offsetsOf();
    const doneBefore = doneRows;
    const loadAtWindow = load();
    const windowStart = performance.now();
    phase = 'load';
    let peakRss = 0;
    while (performance.now() - windowStart < args.seconds * 1000) {
      await sleep(1000);
      peakRss = Math.max(peakRss, procStat(service.pid as number).rssMiB);
    }
    phase = 'warmup'; // probes after the window are not counted
    const windowS = (performance.now() - windowStart) / 1000;
    const kafkaAfter = await offsetsOf();
    const doneInWindow = doneRows - doneBefore;
    const svcAfter = procStat(service.pid as number);
    const loadAtEnd = load();
    stopWriter = true;
    stopProbes = true;
    await Promise.all([writerLoop, probeLoop]);
    await Promise.all(launched);
    while (inFlight > 0) await sleep(50);
    await sleep(1000); // the tap sees the last probes

    // 6. Figures.
    // The k-th probe of a user made the k-th event of its grant (the tap joined before).
    const byAuth = new Map<number, { at: number; recordTs: number }[]>();
    for (const s of seen) byAuth.set(s.auth, [...(byAuth.get(s.auth) ?? []), s]);
    // A probe's event: the first of its grant readable after it was sent and before the next
    // probe of the same user was sent (a user comes back only when the pool wraps).
    const nextOf = new Map<Probe, number>();
    const lastOf = new Map<number, Probe>();
    for (const p of probes) {
      const prev = lastOf.get(p.user);
      if (prev) nextOf.set(prev, p.sentAt);
      lastOf.set(p.user, p);
    }
    const matchTap = (p: Probe) =>
      byAuth
        .get(probeAuth.get(p.user) as number)
        ?.find((s) => s.at >= p.sentAt && s.at < (nextOf.get(p) ?? Infinity));
    const figures = (list: Probe[]) => {
      const ok = list.filter((p) => Number.isFinite(p.deletedAt));
      const tapped = ok.map((p) => ({ p, s: matchTap(p) })).filter((x) => x.s);
      return {
        deleted: summary(ok.map((p) => p.deletedAt - p.committedAt)),
        lost: list.length - ok.length,
        commitRoundTrip: summary(list.map((p) => p.committedAt - p.sentAt)),
        commitToRecordTs: summary(tapped.map((x) => (x.s?.recordTs ?? 0) - x.p.committedAt)),
        commitToReadable: summary(tapped.map((x) => (x.s?.at ?? 0) - x.p.committedAt)),
        readableToDeleted: summary(tapped.map((x) => x.p.deletedAt - (x.s?.at ?? 0))),
      };
    };
    const ticksPerS = (svcAfter.ticks - svcBefore.ticks) / windowS;
    const result = {
      at: new Date().toISOString(),
      head: execSync('git rev-parse --short HEAD', { cwd: REPO }).toString().trim(),
      dirty: execSync('git status --porcelain -- src stack consumers', { cwd: REPO })
        .toString()
        .split('\n')
        .filter(Boolean).length,
      node: process.version,
      cores: cpus().length,
      loadAtStart,
      loadAtWindow,
      loadAtEnd,
      args,
      windowSeconds: Number(windowS.toFixed(1)),
      writer: {
        rowsPerTick: perTick,
        rowsPerSecond: Math.round(doneInWindow / windowS),
        debeziumEventsPerSecond: Math.round((kafkaAfter - kafkaBefore) / windowS),
        issuedRows,
        doneRows,
        failedTicks: failed,
        skippedTicks,
      },
      startupMs,
      service: {
        cpuPercent: Math.round(ticksPerS), // 100 clock ticks per second on Linux
        peakRssMiB: peakRss,
      },
      idle: figures(probes.filter((p) => p.phase === 'idle')),
      load: figures(probes.filter((p) => p.phase === 'load')),
    };
    console.log(JSON.stringify(result, null, 2));
    const d = result.load.deleted;
    console.log(
      `| ${result.at.slice(0, 16)} | ${result.writer.rowsPerSecond} rows/s (${result.writer.debeziumEventsPerSecond} events/s) | n=${d.n} | p50 ${d.p50} | p90 ${d.p90} | p99 ${d.p99} | max ${d.max} ms | lost ${result.load.lost} | idle p50/p99 ${result.idle.deleted.p50}/${result.idle.deleted.p99} | load ${loadAtWindow.join(' ')} → ${loadAtEnd.join(' ')} |`,
    );
    if (args.write) {
      console.log(`written to ${appendResult('latency', result.at, result)}`);
    }
  } finally {
    // 7. Clean up: the service, the tap, our rows and keys.
    service.kill('SIGTERM');
    await new Promise<void>((r) => (service.exitCode !== null ? r() : service.once('exit', r)));
    await tap.disconnect().catch(() => undefined);
    await admin
      .deleteGroups([`bench-latency-${token}`, `bench-latency-tap-${token}`])
      .catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await db.query(sql`DELETE FROM user_auth WHERE user_id BETWEEN ${base} AND ${base + 2999}`);
    await db.query(sql`DELETE FROM users WHERE user_id BETWEEN ${base} AND ${base + 2999}`);
    await db.query(sql`DELETE FROM products WHERE category_id BETWEEN ${base} AND ${base + 19}`);
    await db.query(sql`DELETE FROM trade_orders WHERE order_no LIKE ${`${token}-%`}`);
    await db.query(sql`DELETE FROM serials WHERE serial_no LIKE ${`${token}-%`}`);
    await redis.unlink(...probeUsers.map((u) => `permissions:user:${u}`));
    await db.dispose();
    await probeDb.dispose();
    redis.disconnect();
    sub.disconnect();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
