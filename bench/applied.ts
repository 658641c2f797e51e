/**
 * Read-your-writes: commit → `wait-applied` returns, on the local stack (`.stack/env`).
 *
 * The service runs as its own process (`node dist/src/cli/main.js run`, MCS_APPLIED_TRACKING on,
 * a fresh group at the end of the topics). A probe commits `UPDATE users` of a bench-owned user
 * on a connection of its own, reads `SELECT @@last_gtid` in that session and times from the
 * commit's return until the marks answer applied (the same wait `wait-applied` and `GET /applied`
 * run, polling every 2 ms; the CLI's own process start, ~0.3 s of Node, is not in the figure).
 * `--probes` probes idle, then the same under a writer of `--rate` row changes/s (multi-row
 * updates of 1,000 bench-owned users every `--tick-ms`, measured rate printed). Appends to
 * bench/results/<date>-applied.json. Figures from a machine shared with other work are noisy:
 * the run prints the load average beside them.
 */
import connect, { sql, type ConnectionPool } from '@databases/mysql';
import Redis from 'ioredis';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config/config';
import { AppliedMarks } from '../src/intake/applied/marks';
import { parseGtid } from '../src/intake/applied/positions';
import type { RedisPort } from '../src/redis/port';
import { REPO, appendResult, runMain } from './support';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function summary(values: number[]) {
  const s = [...values].sort((x, y) => x - y);
  const at = (p: number) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
  const r = (x: number) => Math.round(x * 10) / 10;
  return {
    n: s.length,
    p50: r(at(50)),
    p90: r(at(90)),
    p99: r(at(99)),
    max: r(s[s.length - 1] ?? NaN),
  };
}

async function waitReady(port: number, child: ChildProcess): Promise<void> {
  for (const t0 = Date.now(); Date.now() - t0 < 180_000; await sleep(250)) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
  }
  throw new Error('service not ready in time');
}

async function main(): Promise<void> {
  const probes = arg('probes', 200);
  const rate = arg('rate', 1000);
  const tickMs = arg('tick-ms', 50);
  const httpPort = arg('http-port', 19_391);
  const config = loadConfig({ cwd: REPO, env: process.env });
  const main = path.join(REPO, 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} missing: npm run build first`);
  const child = spawn(process.execPath, [main, 'run'], {
    cwd: REPO,
    env: {
      ...process.env,
      MCS_APPLIED_TRACKING: 'true',
      MCS_GROUP_ID: `mcs-bench-applied-${Date.now().toString(36)}`,
      MCS_FROM_BEGINNING: 'false',
      MCS_HTTP_PORT: String(httpPort),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', openSync(path.join(REPO, '.stack', 'bench-applied.log'), 'w'), 'inherit'],
  });
  const db: ConnectionPool = connect({
    connectionString: config.mysql.url,
    bigIntMode: 'number',
    poolSize: 4,
  });
  const probeDb: ConnectionPool = connect({
    connectionString: config.mysql.url,
    bigIntMode: 'number',
    poolSize: 1,
  });
  const temp = new Redis(config.redis.url, { db: config.redis.db.temp });
  const marks = new AppliedMarks({
    eval: (script, keys, args) => temp.eval(script, keys.length, ...keys, ...args),
  } as RedisPort);
  const base = 710_000_000 + Math.floor(Math.random() * 10_000) * 10_000;
  const writers = Array.from({ length: 1000 }, (_, i) => base + 10 + i);
  try {
    await waitReady(httpPort, child);
    await db.query(
      sql`INSERT INTO users (user_id, username) VALUES ${sql.join(
        [base, ...writers].map((u) => sql`(${u}, ${`ba${u}`})`),
        ', ',
      )}`,
    );
    await sleep(2000); // the inserts applied before the first probe

    const probe = async (n: number): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const { gtid, t0 } = await probeDb.task(async (c) => {
          await c.query(sql`UPDATE users SET dept_id = ${i % 9} WHERE user_id = ${base}`);
          const t = performance.now();
          const [row] = await c.query(sql`SELECT @@last_gtid AS g`);
          return { gtid: String((row as { g: string }).g), t0: t };
        });
        const position = parseGtid(gtid);
        if (!position) throw new Error(`not a GTID: ${gtid}`);
        if ((await marks.wait(position, 30_000, 2)) !== 'applied')
          throw new Error(`${gtid}: timeout`);
        out.push(performance.now() - t0);
        await sleep(20);
      }
      return out;
    };

    const idle = await probe(probes);
    console.log(
      `APPLIED idle: ${JSON.stringify(summary(idle))} ms; load ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );

    // the writer: `rate` row changes/s as one multi-row update per tick
    let running = true;
    let changes = 0;
    const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
    const writer = (async () => {
      let k = 0;
      let next = performance.now();
      while (running) {
        const start = (k * perTick) % writers.length;
        const ids = writers.slice(start, start + perTick);
        await db.query(
          sql`UPDATE users SET dept_id = ${k % 7} WHERE user_id IN (${sql.join(
            ids.map((u) => sql`${u}`),
            ', ',
          )})`,
        );
        changes += ids.length;
        k += 1;
        next += tickMs;
        await sleep(Math.max(0, next - performance.now()));
      }
    })();
    await sleep(5000); // warm-up
    const c0 = changes;
    const l0 = performance.now();
    const loaded = await probe(probes);
    const measuredRate = Math.round(((changes - c0) * 1000) / (performance.now() - l0));
    running = false;
    await writer;
    console.log(
      `APPLIED under ${measuredRate} changes/s: ${JSON.stringify(summary(loaded))} ms; load ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
    const at = new Date().toISOString();
    const file = appendResult('applied', at, {
      at,
      what: 'commit → applied (marks answer, 2 ms poll), GTID of the writer session',
      idle: summary(idle),
      loaded: { ...summary(loaded), changesPerSecond: measuredRate },
      loadavg: loadavg(),
      sharedMachine: true,
    });
    console.log(`written to ${file}`);
  } finally {
    await db
      .query(sql`DELETE FROM users WHERE user_id BETWEEN ${base} AND ${base + 2000}`)
      .catch(() => undefined);
    child.kill('SIGTERM');
    await db.dispose();
    await probeDb.dispose();
    temp.disconnect();
  }
}

runMain(main);
