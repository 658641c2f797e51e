/**
 * Keyspace benchmark (issue 15): what pattern invalidation costs Redis as the keyspace grows.
 *
 * On the local stack (`.stack/env`): DB 1 is filled with `--keys` keys (half permission maps,
 * half statistics of other brands), the service runs in this process with its defaults (its own
 * consumer group, starting at the end of the topics), `trade_orders` rows are inserted at
 * `--rate` per second (brands 1–3) through MariaDB → Debezium → Kafka, and each second a
 * `stats:bkp…:brand:2:…` key is planted and then dirtied by an order of brand 2. Measured, over
 * the `--seconds` window after the pattern index is trusted:
 * - Redis CPU: Δ(used_cpu_sys + used_cpu_user) of `INFO cpu` / wall time (its own counters; the
 *   whole server, the benchmark's own writes and polls included);
 * - time inside SCAN: Δ usec of `cmdstat_scan` in `INFO commandstats`;
 * - planted key gone: order INSERT returned → the key no longer EXISTS (polled every 5 ms);
 * - revocation: `user_auth` UPDATE returned → `permissions:user:{id}` gone, idle (before the
 *   orders start) and under the order load (one per second).
 * Each run appends an entry to bench/results/<date>-keyspace.json; the load average of the
 * machine is recorded with it (the machine may be shared).
 * `--cluster` runs the same load on a Redis Cluster with replicas, `--failover-at S` killing a
 * master mid-run (keyspace-cluster.ts).
 */
import connect, { sql, type ConnectionPool } from '@databases/mysql';
import Redis from 'ioredis';
import { loadavg, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { execSync } from 'node:child_process';
import { loadConfig } from '../src/config/config';
import { appendResult } from './support';
import { startService, type RunningService } from '../src/app/service';
import { createLogger } from '../src/telemetry/logger';
import { goneAfter, orderLoad, revocationProbe, sleep, summary } from './keyspace-common';
import { runClusterBench } from './keyspace-cluster';

interface Args {
  keys: number;
  rate: number;
  seconds: number;
  index: string;
  write: boolean;
  cluster: boolean;
  clusterPort: number;
  failoverAt: number | undefined;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    keys: 300_000,
    rate: 50,
    seconds: 30,
    index: 'require',
    write: true,
    cluster: false,
    clusterPort: 17311,
    failoverAt: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === '--keys') a.keys = Number(v);
    else if (k === '--rate') a.rate = Number(v);
    else if (k === '--seconds') a.seconds = Number(v);
    else if (k === '--index') a.index = String(v);
    else if (k === '--cluster-port') a.clusterPort = Number(v);
    else if (k === '--failover-at') a.failoverAt = Number(v);
    else if (k === '--no-write') {
      a.write = false;
      continue;
    } else if (k === '--cluster') {
      a.cluster = true;
      continue;
    } else throw new Error(`unknown option ${k}`);
    i++;
  }
  return a;
}

function info(text: string, field: string): number {
  const m = new RegExp(`^${field}:([0-9.]+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}
async function redisCounters(r: Redis): Promise<{ cpu: number; scanUsec: number; scans: number }> {
  const cpu = await r.info('cpu');
  const stats = await r.info('commandstats');
  const scan = /^cmdstat_scan:calls=(\d+),usec=(\d+)/m.exec(stats);
  return {
    cpu: info(cpu, 'used_cpu_sys') + info(cpu, 'used_cpu_user'),
    scanUsec: scan ? Number(scan[2]) : 0,
    scans: scan ? Number(scan[1]) : 0,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.cluster) return runClusterBench(args);
  if (args.failoverAt !== undefined) throw new Error('--failover-at needs --cluster');
  const token = `bk${Date.now().toString(36)}`;
  const env = {
    ...process.env,
    MCS_GROUP_ID: `bench-keyspace-${token}`,
    MCS_FROM_BEGINNING: 'false',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    MCS_STATS_INTERVAL_MS: '0',
    MCS_HTTP_PORT: '0',
    MCS_PATTERN_INDEX: args.index,
  };
  const config = loadConfig({ env });
  const db1 = new Redis(config.redis.url, { db: config.redis.db.stats });
  const db: ConnectionPool = connect({
    connectionString: config.mysql.url,
    bigIntMode: 'number',
    poolSize: 4,
  });
  const load = () => loadavg().map((x) => Number(x.toFixed(2)));
  const loadAtStart = load();
  console.log(`keyspace bench ${token}: ${JSON.stringify(args)}; load ${loadAtStart.join(' ')}`);

  // 1. Fill DB 1: permission maps and other brands' statistics (1 h TTL, in case a run is killed).
  const fillStart = performance.now();
  const value = JSON.stringify({
    admin_user: { c: true, r: true, u: false, d: false },
    pad: 'x'.repeat(60),
  });
  for (let i = 0; i < args.keys; i += 5000) {
    const p = db1.pipeline();
    for (let j = i; j < Math.min(args.keys, i + 5000); j++) {
      const key =
        j % 2 === 0
          ? `permissions:user:${token}:${j}`
          : `stats:${token}_${j % 20}:brand:${100 + (j % 50)}:${j}`;
      p.set(key, value, 'EX', 3600);
    }
    await p.exec();
  }
  const dbsize = await db1.dbsize();
  console.log(
    `filled ${args.keys} keys in ${Math.round(performance.now() - fillStart)} ms (DB size ${dbsize})`,
  );

  // 2. The service, with its defaults; wait for the pattern index.
  const service: RunningService = await startService(config, createLogger(config.log.level));
  const rebuildStart = performance.now();
  const indexes = [...service.patterns.indexes.values()];
  while (args.index !== 'off' && indexes.some((i) => i.state !== 'trusted')) {
    if (performance.now() - rebuildStart > 600_000) throw new Error('index not trusted in 10 min');
    await sleep(100);
  }
  const rebuildMs = Math.round(performance.now() - rebuildStart);
  console.log(`index ${indexes.map((i) => i.state).join(',') || 'none'} after ${rebuildMs} ms`);

  // A user of our own with one grant, for revocations.
  const probe = await revocationProbe(db, db1);
  const revoke = probe.revoke;
  const idle: number[] = [];
  for (let i = 0; i < 15; i++) {
    idle.push(await revoke());
    await sleep(300);
  }

  // 3. Orders at the rate, a planted key each second, a revocation each second.
  const today = new Date().toISOString().slice(0, 10);
  let orderNo = 0;
  const order = (brand: number) =>
    db.query(
      sql`INSERT INTO trade_orders (order_no, order_date, brand_id, channel, amount) VALUES (${`${token}-${orderNo++}`}, ${today}, ${brand}, 'bench', 1000)`,
    );
  const before = await redisCounters(db1);
  const t0 = performance.now();
  const endAt = t0 + args.seconds * 1000;
  const orders = orderLoad(order, args.rate, endAt);
  const planted: number[] = [];
  const plantLoop = (async () => {
    let n = 0;
    while (performance.now() < endAt - 1000) {
      const started = performance.now();
      const key = `stats:${token}p:brand:2:${n++}`;
      await db1.set(key, 'planted', 'EX', 600);
      await order(2);
      planted.push(await goneAfter(db1, key));
      const rest = 1000 - (performance.now() - started);
      if (rest > 0) await sleep(rest);
    }
  })();
  const loaded: number[] = [];
  const revokeLoop = (async () => {
    await sleep(500);
    while (performance.now() < endAt - 1000) {
      const started = performance.now();
      loaded.push(await revoke());
      const rest = 1000 - (performance.now() - started);
      if (rest > 0) await sleep(rest);
    }
  })();
  await Promise.all([orders.done, plantLoop, revokeLoop]);
  const wall = (performance.now() - t0) / 1000;
  const after = await redisCounters(db1);
  await Promise.all(orders.pending);
  const loadAtEnd = load();

  const result = {
    at: new Date().toISOString(),
    head: execSync('git rev-parse --short HEAD').toString().trim(),
    cores: cpus().length,
    loadAtStart,
    loadAtEnd,
    args,
    dbsize,
    indexRebuildMs: rebuildMs,
    indexKeys: indexes.map((i) => i.size),
    seconds: Number(wall.toFixed(1)),
    orders: orders.count(),
    redisCpuPercent: Number((((after.cpu - before.cpu) / wall) * 100).toFixed(1)),
    scanSeconds: Number(((after.scanUsec - before.scanUsec) / 1e6).toFixed(2)),
    scanCalls: after.scans - before.scans,
    plantedMs: summary(planted),
    revocationIdleMs: summary(idle),
    revocationLoadedMs: summary(loaded),
    patternDeletes: { ...service.patterns.stats },
    walkBudget: {
      steps: service.patterns.budget.steps,
      busyMs: Math.round(service.patterns.budget.busyMs),
      redisMs: Math.round(service.patterns.budget.redisMs),
    },
  };
  console.log(JSON.stringify(result, null, 2));
  console.log(
    `| ${args.keys} | ${args.rate} | ${result.redisCpuPercent} % | ${result.scanSeconds} s of ${result.seconds} | ${result.plantedMs.p50} / ${result.plantedMs.max} ms | revocation idle ${result.revocationIdleMs.p50}/${result.revocationIdleMs.max}, loaded ${result.revocationLoadedMs.p50}/${result.revocationLoadedMs.max} ms | load ${loadAtStart.join(' ')} → ${loadAtEnd.join(' ')} |`,
  );

  // 4. Clean up: the service, our rows, our keys.
  await service.stop();
  await probe.remove();
  await db.query(sql`DELETE FROM trade_orders WHERE order_no LIKE ${`${token}-%`}`);
  let cursor = '0';
  do {
    const [next, keys] = await db1.scan(cursor, 'MATCH', `*${token}*`, 'COUNT', 5000);
    cursor = next;
    if (keys.length) await db1.unlink(...keys);
  } while (cursor !== '0');
  await db.dispose();
  db1.disconnect();

  if (args.write) {
    console.log(`written to ${appendResult('keyspace', result.at, result)}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
