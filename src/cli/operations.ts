/**
 * The operator commands: replay, rebuild, verify. Each opens only the connections it needs,
 * prints a human summary, and returns the process exit code. Options arrive parsed (commander,
 * src/cli/program.ts); values are validated here.
 */
import { writeFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import type { Config } from '../config/config';
import { windows } from '../config/parse';
import { FAMILIES, isFamily, type Family } from '../core/families';
import { SyncError } from '../core/errors';
import { createKafka } from '../intake/kafka';
import { createRowLoader, type RowLoader } from '../mysql/loader';
import { writeSignal } from '../mysql/signal';
import { createRedisClients, type RedisClients } from '../redis/clients';
import { startKeyExecutor, type KeyExecutorSetup } from '../keys/executor-setup';
import { progressSink } from '../ops/progress';
import { rebuild } from '../ops/rebuild';
import { snapshotRepair } from '../ops/rebuild-snapshot';
import { replay } from '../ops/replay';
import { verify } from '../consistency/verify';
import type { Logger } from '../telemetry/logger';

import type { OpContext } from './context';

/** `a,b, c` → ['a', 'b', 'c']; undefined → []. */
export function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function families(list: string[], fallback: readonly Family[]): Family[] {
  const bad = list.find((f) => !isFamily(f));
  if (bad !== undefined)
    throw new SyncError(
      'CONFIG_INVALID',
      `--families: "${bad}" is not one of ${FAMILIES.join(', ')}`,
    );
  return list.length > 0 ? (list as Family[]) : [...fallback];
}

/** Opens Redis (every family's port) and MySQL for a command, and closes both after it. */
export async function withRedisAndMysql<T>(
  config: Config,
  logger: Logger,
  fn: (ports: RedisClients['ports'], loader: RowLoader) => Promise<T>,
): Promise<T> {
  const redis = createRedisClients(config.redis, logger);
  const loader = createRowLoader(requireMysql(config), config.mysql.tls);
  try {
    await redis.ready();
    return await fn(redis.ports, loader);
  } finally {
    await redis.close();
    await loader.close();
  }
}

export function requireMysql(config: Config): string {
  if (!config.mysql.url)
    throw new SyncError('CONFIG_INVALID', 'MYSQL_URL (mysql.url): is required by this command');
  return config.mysql.url;
}

export interface ReplayCliOptions {
  readonly from: string;
  readonly tables?: string;
  readonly dryRun?: boolean;
  readonly resetGroup?: boolean;
}

/** `replay`: its parsed options and the command context. */
export interface ReplayCommandArgs extends OpContext {
  readonly opts: ReplayCliOptions;
}

export async function replayCommand({
  opts,
  config,
  rules,
  logger,
  out,
}: ReplayCommandArgs): Promise<number> {
  const fromText = opts.from;
  const from = fromText === 'earliest' ? 'earliest' : new Date(fromText);
  if (from !== 'earliest' && Number.isNaN(from.getTime())) {
    throw new SyncError(
      'CONFIG_INVALID',
      `--from: "${fromText}" is neither "earliest" nor an ISO timestamp`,
    );
  }
  const dryRun = opts.dryRun === true;
  const resetGroup = opts.resetGroup === true;
  if (dryRun && resetGroup)
    throw new SyncError('CONFIG_INVALID', '--dry-run and --reset-group exclude each other');
  const kafka = createKafka(config.kafka, logger);
  const redis = dryRun || resetGroup ? undefined : createRedisClients(config.redis, logger);
  const loader =
    redis && config.rules.refreshFamilies.length > 0
      ? createRowLoader(requireMysql(config), config.mysql.tls)
      : undefined;
  let setup: KeyExecutorSetup | undefined;
  try {
    await redis?.ready();
    // The service's executor set-up: pattern deletes read the pattern index instead of walking.
    setup = redis
      ? await startKeyExecutor({ config: config.redis, rules, clients: redis, loader, logger })
      : undefined;
    const executor = setup?.executor;
    const report = await replay(
      { kafka, config, rules, logger, progress: progressSink(), ...(executor ? { executor } : {}) },
      { from, tables: splitList(opts.tables), dryRun, resetGroup },
    );
    if (report.mode === 'group reset') {
      out(
        `group ${config.kafka.groupId}: offsets of ${report.partitions} partition(s) moved to ${fromText}; ${report.events} event(s) will be re-applied when the service starts\n`,
      );
      return 0;
    }
    out(
      `replayed ${report.events} event(s) from ${report.partitions} partition(s) in ${(report.elapsedMs / 1000).toFixed(1)} s: ` +
        // dry run: distinct over the whole replay (the list below); else summed over the
        // batches, each batch's operations de-duplicated (see ReplayReport.operations)
        `${report.operations} ${dryRun ? 'distinct operation(s)' : 'operation(s) applied (distinct per batch)'}, ${report.deleted} key(s) deleted, ${report.refreshed} refreshed, ${report.rejected} rejected${dryRun ? ' (dry run: nothing touched)' : ''}\n`,
    );
    for (const op of report.planned && dryRun ? report.planned : []) {
      out(`  DB ${config.redis.db[op.family]}  ${op.action.padEnd(14)} ${op.key}\n`);
    }
    return 0;
  } finally {
    await setup?.patterns.close();
    await redis?.close();
    await loader?.close();
  }
}

export interface RebuildOptions {
  readonly families?: string;
  readonly table?: string;
  readonly where?: string;
  readonly timeout?: string;
  readonly metricsFile?: string;
}

/** `rebuild`: its parsed options and the command context. */
export interface RebuildCommandArgs extends OpContext {
  readonly opts: RebuildOptions;
}

export async function rebuildCommand(args: RebuildCommandArgs): Promise<number> {
  if (args.opts.table !== undefined) return snapshotRebuildCommand(args);
  const { opts, config, rules, logger, out } = args;
  if (opts.where !== undefined)
    throw new SyncError('CONFIG_INVALID', '--where: needs --table (the snapshot it filters)');
  const wanted = families(splitList(opts.families), ['master']);
  const report = await withRedisAndMysql(config, logger, (ports, loader) =>
    rebuild({ config, rules, ports, loader, logger }, wanted),
  );
  for (const [family, r] of Object.entries(report.families)) {
    out(
      `${family}: ${r.written} key(s) written, ${r.skipped} skipped (newer value or lock held elsewhere), ${r.failed} failed\n`,
    );
  }
  for (const family of report.withoutLoader)
    out(`${family}: no loader (delete-only family): nothing to rebuild\n`);
  return Object.values(report.families).some((r) => r.failed > 0) ? 1 : 0;
}

/** `rebuild --table <t> [--where <cond>]`: repair through Debezium's incremental snapshot. */
async function snapshotRebuildCommand({
  opts,
  config,
  rules,
  logger,
  out,
}: RebuildCommandArgs): Promise<number> {
  const table = opts.table ?? '';
  const [timeoutMs] = windows([opts.timeout ?? '10m'], '--timeout');
  const registry = new Registry();
  const report = await withRedisAndMysql(config, logger, (ports, loader) =>
    snapshotRepair(
      {
        config,
        rules,
        ports,
        loader,
        kafka: createKafka(config.kafka, logger),
        signal: (row) => writeSignal(requireMysql(config), config.mysql.tls, row),
        logger,
        progress: progressSink(process.stderr, 2000, {
          label: 'rebuild',
          unit: 'rows',
          rate: 'rows/s',
        }),
        registry,
      },
      { table, ...(opts.where ? { where: opts.where } : {}), timeoutMs: timeoutMs ?? 600_000 },
    ),
  );
  out(
    `snapshot ${report.id} of ${table}${opts.where ? ` where ${opts.where}` : ''}: ${report.status}, ${report.rows} row(s) read (${report.expected} expected)\n`,
  );
  for (const [family, c] of Object.entries(report.families)) {
    out(
      `${family}: ${c.checked} key(s) checked, ${c.repaired} repaired (stale, deleted), ${c.unjudged} not judged\n`,
    );
  }
  if (Object.keys(report.families).length === 0) out('no cached key of these rows exists\n');
  if (report.undecodable > 0)
    out(
      `${report.undecodable} record(s) of the change topic could not be decoded (logged with topic/partition/offset): their keys were not judged\n`,
    );
  if (opts.metricsFile) writeFileSync(opts.metricsFile, await registry.metrics());
  return report.status === 'COMPLETED' && report.undecodable === 0 ? 0 : 1;
}

export interface VerifyCliOptions {
  readonly sample: string;
  readonly families?: string;
  readonly maxStale: string;
}

/** `verify`: its parsed options and the command context. */
export interface VerifyCommandArgs extends OpContext {
  readonly opts: VerifyCliOptions;
}

export async function verifyCommand({
  opts,
  config,
  rules,
  logger,
  out,
}: VerifyCommandArgs): Promise<number> {
  const sample = Number(opts.sample);
  const maxStale = Number(opts.maxStale);
  if (!Number.isInteger(sample) || sample < 1)
    throw new SyncError('CONFIG_INVALID', '--sample must be a whole number >= 1');
  if (!(maxStale >= 0 && maxStale <= 1))
    throw new SyncError('CONFIG_INVALID', '--max-stale must be a share between 0 and 1');
  const wanted = families(splitList(opts.families), ['session', 'permissions', 'master']);
  const r = await withRedisAndMysql(config, logger, (ports, loader) =>
    verify({ config, rules, ports, loader }, { sample, families: wanted }),
  );
  const judged = r.consistent + r.stale;
  const share = judged > 0 ? r.stale / judged : 0;
  out(
    `verify (${wanted.join(', ')}; up to ${sample} key(s) each): checked ${r.checked}, consistent ${r.consistent}, stale ${r.stale}, ` +
      `missing-loader ${r.missingLoader}, unreadable ${r.unreadable}, unknown ${r.unknown}, changed-while-checked ${r.changed}\n`,
  );
  for (const k of r.staleKeys) out(`  STALE DB ${k.db}  ${k.key}  (${k.why})\n`);
  const ok = share <= maxStale;
  out(
    `stale share ${(share * 100).toFixed(1)}% (threshold ${(maxStale * 100).toFixed(1)}%): ${ok ? 'OK' : 'FAILED'}\n`,
  );
  return ok ? 0 : 1;
}
