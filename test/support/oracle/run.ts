/**
 * One oracle run: the workload (writer and cache-aside readers) against a service already
 * consuming, optionally interleaved with a nemesis (the hooks), then the checker. The parts do
 * not know each other: the writer records into the history, the nemesis acts between writes,
 * the checker reads Redis, MySQL and the history.
 */
import type { ConnectionPool } from '@databases/mysql';
import type Redis from 'ioredis';
import type { Config } from '../../../src/config/config';
import type { Family } from '../../../src/core/families';
import { CacheTruth } from '../../../src/consistency/truth';
import type { VerifyReport } from '../../../src/consistency/verify';
import { createRowLoader, type RowLoader } from '../../../src/mysql/loader';
import { createRedisClients } from '../../../src/redis/clients';
import { KeyMatcher } from '../../../src/rules/match';
import type { RuleSet } from '../../../src/rules/registry';
import { createLogger } from '../../../src/telemetry/logger';
import { Application, type FillLog } from '../application';
import { mulberry32 as prng } from '../random';
import { redisDb, sql } from '../stack';
import { check, explainFailure, settle } from './checker';
import { History } from './history';
import type { OracleOptions } from './options';
import {
  addForeignKeys,
  aim,
  cleanRange,
  dropForeignKeys,
  recoverKilledRun,
  SCRATCH,
  TABLES,
  Writer,
  type Aim,
  type Table,
} from './workload';

export interface OracleResult {
  readonly report: VerifyReport;
  /** Diverging at the checker's first look, right at its second (late, not lost). */
  readonly transient: number;
  readonly writes: number;
  readonly failedWrites: number;
  readonly reads: number;
  /** Reads that failed (Redis down or slow under a fault); the reader goes on. */
  readonly readErrors: number;
  readonly fills: number;
  readonly truncated: Table;
  /** Targeted writes made, by kind (race, menu-holders, cascade). */
  readonly targeted: Record<string, number>;
  /** Fills per key family (prefix), and session fills whose permission map was not empty. */
  readonly coverage: Record<string, number>;
  readonly ms: {
    readonly writing: number;
    /** Of `writing`: the targeted writes at its end. */
    readonly targeted: number;
    readonly settling: number;
    readonly verifying: number;
  };
  /** Empty when consistent; else the seed, the first diverging key and what touched it. */
  readonly failure: string;
}

/** What a chaos run adds to a plain one: the nemesis between writes, its group, its history. */
export interface RunHooks {
  readonly history: History;
  /** Awaited before each random write (the nemesis starts and heals faults here). */
  beforeWrite(seq: number): Promise<void>;
  /** After the random writes: every fault healed before the targeted writes and the check. */
  afterWrites(): Promise<void>;
  /** The consumer group to wait for (it may change during the run). */
  groupId(): string;
  /** How to replay the run, for the failure report. */
  readonly replay: string;
  readonly schedule: string;
}

/** Runs the oracle against a service already consuming with `config` (its own DBs and group). */
export function runOracle(
  db: ConnectionPool,
  config: Config,
  rules: RuleSet,
  opts: OracleOptions,
): Promise<OracleResult> {
  return runWorkload({ db, config, rules, opts });
}

export interface WorkloadRun {
  readonly db: ConnectionPool;
  readonly config: Config;
  readonly rules: RuleSet;
  readonly opts: OracleOptions;
  readonly hooks?: RunHooks;
}

export async function runWorkload(run: WorkloadRun): Promise<OracleResult> {
  const { db, config, rules, opts } = run;
  const hooks = run.hooks;
  const history = hooks?.history ?? new History({ seed: opts.seed });
  const rnd = prng(opts.seed); // the writes: the same seed gives the same writes
  const readRnd = prng(opts.seed ^ 0x5bd1e995); // the reads (their timing is not reproducible)
  const base = 700_000_000 + (opts.seed % 1000) * 200_000;
  const writer = new Writer(db, rnd, base, opts);
  history.writes = writer.log;
  const logger = createLogger('warn');
  const clients = createRedisClients(config.redis, logger);
  await clients.ready();
  const loader = createRowLoader(config.mysql.url);
  const matcher = new KeyMatcher(rules);
  const redis = new Map<number, Redis>();
  const dbOf = (f: Family): Redis => {
    const n = config.redis.db[f];
    let c = redis.get(n);
    if (!c) redis.set(n, (c = redisDb(n)));
    return c;
  };
  // One application instance (and MySQL pool) per reader, as separate web workers would be, and
  // one for the targeted writes' reads.
  const loaders = Array.from({ length: opts.readers + 1 }, () => createRowLoader(config.mysql.url));
  const aimed = new Application(
    new CacheTruth(loaders[opts.readers] as RowLoader, matcher),
    dbOf,
    config.redis.ttl,
  );
  const apps = loaders.slice(0, opts.readers).map(
    (l) =>
      new Application(
        new CacheTruth(l, matcher),
        dbOf,
        config.redis.ttl,
        () => (readRnd() < 0.05 ? Math.floor(readRnd() * 400) : 0), // a slow reader: the stale-set window
      ),
  );
  const candidates = TABLES.filter(
    (t) =>
      (opts.menuRenames || t !== 'menus') &&
      !(opts.fkCascades && (t === 'users' || t === 'brands')),
  );
  const truncated = candidates[Math.floor(prng(opts.seed + 1)() * candidates.length)] as Table;
  await cleanRange(db, base);
  await recoverKilledRun(db);
  await db.query(sql`CREATE DATABASE IF NOT EXISTS ${sql.ident(SCRATCH)}`);
  await db.query(sql`DROP TABLE IF EXISTS ${sql.ident(SCRATCH, truncated)}`);
  await db.query(
    sql`CREATE TABLE ${sql.ident(SCRATCH, truncated)} AS SELECT * FROM ${sql.ident(truncated)}`,
  );
  if (opts.fkCascades) await addForeignKeys(db);
  const result = { reads: 0, readErrors: 0 };
  const targeted: Record<string, number> = {};
  let writing = true;
  const started = Date.now();
  try {
    const readers = apps.map(async (app) => {
      while (writing) {
        const groups = writer.keys();
        const keys = groups[Math.floor(readRnd() * groups.length)] as [Family, string][];
        const [family, key] = keys[Math.floor(readRnd() * keys.length)] as [Family, string];
        try {
          await app.read(family, key);
          result.reads += 1;
        } catch {
          result.readErrors += 1; // Redis down under a fault: the application retries later
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    });
    for (let seq = 1; seq <= opts.writes; seq++) {
      await hooks?.beforeWrite(seq);
      if (seq === Math.floor(opts.writes / 2)) await writer.truncate(truncated, seq);
      else await writer.step(seq);
      if (opts.writePauseMs > 0) await new Promise((r) => setTimeout(r, opts.writePauseMs));
      if (seq % 5000 === 0)
        console.log(`oracle: ${seq}/${opts.writes} writes, ${result.reads} reads`);
    }
    await hooks?.afterWrites();
    const aiming = Date.now();
    const kinds = (['race', 'menu-holders', 'cascade'] as const).filter(
      (k) =>
        opts.targetedKinds.includes(k) &&
        (k !== 'menu-holders' || opts.menuRenames) &&
        (k !== 'cascade' || opts.fkCascades),
    );
    for (let i = 0; kinds.length > 0 && i < opts.targeted; i++) {
      const kind = kinds[i % kinds.length] as Aim;
      if (await aim(kind, opts.writes + 1 + i, { writer, app: aimed, rules, dbOf })) {
        targeted[kind] = (targeted[kind] ?? 0) + 1;
      }
    }
    writing = false;
    await Promise.all(readers);
    const wrote = Date.now();
    await settle(config, rules, hooks?.groupId() ?? config.kafka.groupId, dbOf('temp'));
    const settled = Date.now();
    const deps = { config, rules, ports: clients.ports, loader };
    const { report, transient } = await check(deps, 5000 + config.redis.secondPassDelayMs);
    const verified = Date.now();
    const fills: FillLog[] = apps.flatMap((a) => a.fills);
    return {
      report,
      transient,
      writes: writer.log.length,
      failedWrites: writer.failed,
      reads: result.reads,
      readErrors: result.readErrors,
      fills: fills.length,
      coverage: coverage(fills),
      truncated,
      targeted,
      ms: {
        writing: wrote - started,
        targeted: wrote - aiming,
        settling: settled - wrote,
        verifying: verified - settled,
      },
      failure:
        report.staleKeys.length === 0
          ? ''
          : explainFailure(report, {
              replay:
                hooks?.replay ??
                `seed ${opts.seed} (rerun with ORACLE_SEED=${opts.seed} ORACLE_WRITES=${opts.writes})`,
              schedule: hooks?.schedule ?? '',
              history,
              fills,
              rules,
            }),
    };
  } finally {
    writing = false;
    if (opts.fkCascades) await dropForeignKeys(db);
    await db.query(
      sql`INSERT IGNORE INTO ${sql.ident(truncated)} SELECT * FROM ${sql.ident(SCRATCH, truncated)}`,
    );
    await db.query(sql`DROP DATABASE IF EXISTS ${sql.ident(SCRATCH)}`);
    if (process.env.ORACLE_KEEP !== '1') await cleanRange(db, base); // 1: keep rows to inspect
    await Promise.all([...redis.values()].map((c) => c.quit()));
    await clients.close();
    await loader.close();
    await Promise.all(loaders.map((l) => l.close()));
  }
}

function coverage(fills: readonly { key: string; value: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of fills) {
    const kind = f.key.split(':').slice(0, 2).join(':');
    out[kind] = (out[kind] ?? 0) + 1;
    if (kind === 'session:user' && f.value.includes('"permissions":{"'))
      out['session with permissions'] = (out['session with permissions'] ?? 0) + 1;
  }
  return out;
}
