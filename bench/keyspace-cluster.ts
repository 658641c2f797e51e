/**
 * `bench:keyspace --cluster`: the keyspace bench on a Redis Cluster with replicas (3 masters,
 * 3 replicas, scripts/stack/redis-cluster.sh on `--cluster-port`, 17311), the pattern index per
 * master. The same load as the standalone bench (orders at `--rate` through MariaDB → Debezium →
 * Kafka, one planted `stats:…:brand:2:…` key per second dirtied by an order of brand 2, one
 * revocation per second); the service runs in this process in cluster mode. Measured per node:
 * Redis CPU (Δ `INFO cpu` / wall), SCAN calls and time (`INFO commandstats`). With
 * `--failover-at S` the master owning the next planted key is SIGKILLed S seconds into the
 * window: recorded are when the indexes were all trusted again (the promoted replica's
 * included), the planted latencies before/after, and the keys still present at the end (stale).
 */
import { execFileSync, execSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import connect, { sql, type ConnectionPool } from '@databases/mysql';
import calculateSlot from 'cluster-key-slot';
import Redis, { Cluster } from 'ioredis';
import { loadConfig } from '../src/config/config';
import { startService, type RunningService } from '../src/app/service';
import { createLogger } from '../src/telemetry/logger';
import { appendResult, REPO } from './support';
import { goneAfter, orderLoad, revocationProbe, sleep, summary } from './keyspace-common';

export interface ClusterArgs {
  keys: number;
  rate: number;
  seconds: number;
  index: string;
  write: boolean;
  clusterPort: number;
  failoverAt: number | undefined;
}

interface NodeCounters {
  cpu: number;
  scans: number;
  scanUsec: number;
  role: string;
}

function field(text: string, name: string): number {
  const m = new RegExp(`^${name}:([0-9.]+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

export async function runClusterBench(args: ClusterArgs): Promise<void> {
  const base = args.clusterPort;
  const nodePorts = Array.from({ length: 6 }, (_, i) => base + i);
  const script = (...a: string[]) =>
    execFileSync('bash', [path.join(REPO, 'scripts', 'stack', 'redis-cluster.sh'), ...a], {
      cwd: REPO,
      env: { ...process.env, REDIS_CLUSTER_BASE_PORT: String(base), REDIS_CLUSTER_REPLICAS: '1' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  const token = `bk${Date.now().toString(36)}`;
  const load = () => loadavg().map((x) => Number(x.toFixed(2)));
  const loadAtStart = load();
  console.log(
    `keyspace cluster bench ${token}: ${JSON.stringify(args)}; load ${loadAtStart.join(' ')}`,
  );
  script('up');
  const nodes = new Map(
    nodePorts.map((p) => [
      p,
      new Redis({ port: p, host: '127.0.0.1', retryStrategy: () => null, maxRetriesPerRequest: 0 }),
    ]),
  );
  await Promise.all(
    [...nodes.values()].map((n) => n.config('SET', 'notify-keyspace-events', 'KA')),
  );
  const counters = async (): Promise<Map<number, NodeCounters>> => {
    const out = new Map<number, NodeCounters>();
    await Promise.all(
      [...nodes].map(async ([p, n]) => {
        try {
          const [cpu, stats, repl] = await Promise.all([
            n.info('cpu'),
            n.info('commandstats'),
            n.info('replication'),
          ]);
          const scan = /^cmdstat_scan:calls=(\d+),usec=(\d+)/m.exec(stats);
          out.set(p, {
            cpu: field(cpu, 'used_cpu_sys') + field(cpu, 'used_cpu_user'),
            scans: scan ? Number(scan[1]) : 0,
            scanUsec: scan ? Number(scan[2]) : 0,
            role: /^role:(\w+)/m.exec(repl)?.[1] ?? '?',
          });
        } catch {
          // a killed node: no counters
        }
      }),
    );
    return out;
  };

  const cluster = new Cluster([{ host: '127.0.0.1', port: base }], {
    redisOptions: { maxRetriesPerRequest: 2 },
  });
  await cluster.ping();
  const masterOf = (key: string) => Number(cluster.slots[calculateSlot(key)]?.[0]?.split(':')[1]);

  // 1. Fill: per master, in pipelines on that master's own connection (a cluster pipeline
  //    cannot span slots of several nodes).
  const fillStart = performance.now();
  const value = JSON.stringify({
    admin_user: { c: true, r: true, u: false, d: false },
    pad: 'x'.repeat(60),
  });
  for (let i = 0; i < args.keys; i += 5000) {
    const byMaster = new Map<number, string[]>();
    for (let j = i; j < Math.min(args.keys, i + 5000); j++) {
      const key =
        j % 2 === 0
          ? `permissions:user:${token}:${j}`
          : `stats:${token}_${j % 20}:brand:${100 + (j % 50)}:${j}`;
      const m = masterOf(key);
      const list = byMaster.get(m);
      if (list) list.push(key);
      else byMaster.set(m, [key]);
    }
    await Promise.all(
      [...byMaster].map(async ([m, keys]) => {
        const p = (nodes.get(m) as Redis).pipeline();
        for (const k of keys) p.set(k, value, 'EX', 3600);
        await p.exec();
      }),
    );
  }
  // replicated before the failover, so the promoted replica holds the fill too
  for (const p of nodePorts.slice(0, 3)) {
    const n = nodes.get(p) as Redis;
    const t = performance.now();
    while ((await n.wait(1, 1000)) < 1 && performance.now() - t < 60_000) await sleep(100);
  }
  const sizes = Object.fromEntries(
    await Promise.all(
      [...nodes].map(async ([p, n]) => [p, await n.dbsize().catch(() => -1)] as const),
    ),
  );
  console.log(
    `filled ${args.keys} keys in ${Math.round(performance.now() - fillStart)} ms (DB sizes ${JSON.stringify(sizes)})`,
  );

  // 2. The service in cluster mode; wait for an index per master, each trusted.
  const env = {
    ...process.env,
    REDIS_URL: `redis://127.0.0.1:${base}`,
    MCS_REDIS_CLUSTER: 'true',
    MCS_GROUP_ID: `bench-keyspace-${token}`,
    MCS_FROM_BEGINNING: 'false',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    MCS_STATS_INTERVAL_MS: '0',
    MCS_HTTP_PORT: '0',
    MCS_PATTERN_INDEX: args.index,
  };
  const config = loadConfig({ env });
  const db: ConnectionPool = connect({
    connectionString: config.mysql.url,
    bigIntMode: 'number',
    poolSize: 4,
  });
  const service: RunningService = await startService(config, createLogger(config.log.level));
  const indexes = () => [...service.patterns.indexes.values()];
  const allTrusted = () => {
    const i = indexes();
    return i.length === 3 && i.every((x) => x.state === 'trusted');
  };
  const rebuildStart = performance.now();
  while (args.index !== 'off' && !allTrusted()) {
    if (performance.now() - rebuildStart > 600_000) throw new Error('index not trusted in 10 min');
    await sleep(100);
  }
  const rebuildMs = Math.round(performance.now() - rebuildStart);
  console.log(
    `indexes ${
      indexes()
        .map((i) => i.state)
        .join(',') || 'none'
    } after ${rebuildMs} ms`,
  );

  const probe = await revocationProbe(db, cluster);
  const revoke = probe.revoke;
  const idle: number[] = [];
  for (let i = 0; i < 10; i++) {
    idle.push(await revoke().catch(() => Infinity));
    await sleep(300);
  }

  // 3. Orders, planted keys and revocations over the window; the failover inside it.
  const today = new Date().toISOString().slice(0, 10);
  let orderNo = 0;
  const order = (brand: number) =>
    db.query(
      sql`INSERT INTO trade_orders (order_no, order_date, brand_id, channel, amount) VALUES (${`${token}-${orderNo++}`}, ${today}, ${brand}, 'bench', 1000)`,
    );
  const before = await counters();
  const indexedBefore = service.patterns.stats.indexed;
  const walkedBefore = service.patterns.stats.walked;
  const t0 = performance.now();
  const endAt = t0 + args.seconds * 1000;
  const orders = orderLoad(order, args.rate, endAt);
  const plantedKeys: string[] = [];
  const planted: { at: number; ms: number }[] = [];
  let plantN = 0;
  const plantKey = () => `stats:${token}p:brand:2:${plantN}`;
  const plantLoop = (async () => {
    while (performance.now() < endAt - 1000) {
      const started = performance.now();
      const key = plantKey();
      plantN++;
      try {
        await cluster.set(key, 'planted', 'EX', 600);
      } catch {
        cluster.refreshSlotsCache(); // its master is down: not planted this second
        await sleep(200);
        continue;
      }
      plantedKeys.push(key);
      await order(2);
      planted.push({
        at: started - t0,
        ms: await goneAfter(cluster, key).catch(() => Infinity),
      });
      const rest = 1000 - (performance.now() - started);
      if (rest > 0) await sleep(rest);
    }
  })();
  const loaded: number[] = [];
  const revokeLoop = (async () => {
    await sleep(500);
    while (performance.now() < endAt - 1000) {
      const started = performance.now();
      loaded.push(await revoke().catch(() => Infinity));
      const rest = 1000 - (performance.now() - started);
      if (rest > 0) await sleep(rest);
    }
  })();
  const failover: Record<string, unknown> = {};
  const failoverLoop = (async () => {
    if (args.failoverAt === undefined) return;
    await sleep(args.failoverAt * 1000);
    const victim = masterOf(plantKey());
    const killedAt = performance.now();
    script('kill-node', String(victim));
    failover.victim = victim;
    failover.killedAtS = Number(((killedAt - t0) / 1000).toFixed(1));
    let untrustedMs: number | undefined;
    while (performance.now() - killedAt < 60_000) {
      const servers = service.patterns.cluster?.index.current.map((m) => m.server) ?? [];
      if (untrustedMs === undefined && !allTrusted()) untrustedMs = performance.now() - killedAt;
      if (allTrusted() && servers.length === 3 && !servers.includes(`127.0.0.1:${victim}`)) {
        failover.promoted = servers.filter((s) => !s.endsWith(`:${victim}`));
        break;
      }
      await sleep(50);
    }
    failover.untrustedAfterMs = untrustedMs === undefined ? null : Math.round(untrustedMs);
    failover.trustedAgainAfterMs = Math.round(performance.now() - killedAt);
  })();
  await Promise.all([orders.done, plantLoop, revokeLoop, failoverLoop]);
  const wall = (performance.now() - t0) / 1000;
  const after = await counters();
  await Promise.all(orders.pending);
  // One more order of brand 2 once everything is trusted: nothing planted may remain.
  await order(2);
  await sleep(3000);
  const stale = (
    await Promise.all(plantedKeys.map((k) => cluster.exists(k).catch(() => 1)))
  ).reduce((a, b) => a + b, 0);
  const loadAtEnd = load();

  interface NodeResult {
    role: string;
    killed?: true;
    cpuPercent?: number;
    scanCalls?: number;
    scanMs?: number;
  }
  const perNode: Record<string, NodeResult> = Object.fromEntries(
    nodePorts.map((p): [number, NodeResult] => {
      const a = before.get(p);
      const b = after.get(p);
      if (!a || !b) return [p, { role: a?.role ?? '?', killed: true }];
      return [
        p,
        {
          role: a.role === b.role ? b.role : `${a.role}→${b.role}`,
          cpuPercent: Number((((b.cpu - a.cpu) / wall) * 100).toFixed(1)),
          scanCalls: b.scans - a.scans,
          scanMs: Math.round((b.scanUsec - a.scanUsec) / 1000),
        },
      ];
    }),
  );
  const killedAtMs = typeof failover.killedAtS === 'number' ? failover.killedAtS * 1000 : Infinity;
  const result = {
    at: new Date().toISOString(),
    head: execSync('git rev-parse --short HEAD').toString().trim(),
    mode: 'cluster',
    cores: cpus().length,
    loadAtStart,
    loadAtEnd,
    args,
    dbsize: sizes,
    indexRebuildMs: rebuildMs,
    indexKeys: indexes().map((i) => i.size),
    seconds: Number(wall.toFixed(1)),
    orders: orders.count(),
    perNode,
    maxMasterCpuPercent: Math.max(
      ...Object.values(perNode).map((n) => (n.role === 'slave' ? 0 : (n.cpuPercent ?? 0))),
    ),
    scanCalls: Object.values(perNode).reduce((sum, n) => sum + (n.scanCalls ?? 0), 0),
    plantedMs: summary(planted.map((p) => p.ms)),
    plantedBeforeFailoverMs: summary(planted.filter((p) => p.at < killedAtMs).map((p) => p.ms)),
    plantedFromFailoverMs: summary(planted.filter((p) => p.at >= killedAtMs).map((p) => p.ms)),
    plantedStale: stale,
    failover: args.failoverAt === undefined ? null : failover,
    revocationIdleMs: summary(idle),
    revocationLoadedMs: summary(loaded),
    patternDeletes: {
      indexed: service.patterns.stats.indexed - indexedBefore,
      walked: service.patterns.stats.walked - walkedBefore,
    },
    walkBudget: {
      steps: service.patterns.budget.steps,
      busyMs: Math.round(service.patterns.budget.busyMs),
      redisMs: Math.round(service.patterns.budget.redisMs),
    },
  };
  console.log(JSON.stringify(result, null, 2));
  console.log(
    `| cluster ${args.keys} | ${args.rate} | max master ${result.maxMasterCpuPercent} % | ${result.scanCalls} SCAN | planted ${result.plantedMs.p50} / ${result.plantedMs.max} ms (before failover ${result.plantedBeforeFailoverMs.p50} / ${result.plantedBeforeFailoverMs.max}) | stale ${stale} | failover ${JSON.stringify(result.failover)} | load ${loadAtStart.join(' ')} → ${loadAtEnd.join(' ')} |`,
  );

  // 4. Clean up: the service, our rows; the cluster is this bench's own: down.
  await service.stop();
  await probe.remove();
  await db.query(sql`DELETE FROM trade_orders WHERE order_no LIKE ${`${token}-%`}`);
  await db.dispose();
  cluster.disconnect();
  for (const n of nodes.values()) n.disconnect();
  script('down');
  if (args.write) console.log(`written to ${appendResult('keyspace', result.at, result)}`);
}
