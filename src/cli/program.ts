/**
 * The command tree (commander): every command answers `--help`, the program `--version`;
 * unknown options, unknown commands, missing arguments and excess arguments print the command's
 * usage and exit 2. Each action returns the exit code: 0 ok, 1 runtime failure (or a check that
 * failed), 2 usage, configuration or rule error.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import pino from 'pino';
import { loadConfig, redactConfig, type Config } from '../config/config';
import { SETTINGS } from '../config/settings';
import { errorMessage, isSetupError } from '../core/errors';
import { DEFAULT_CONSUMERS_DIR, loadRules, type RuleSet } from '../rules/registry';
import { createLogger } from '../telemetry/logger';
import { checkCommand } from './check';
import { deadLettersListCommand, deadLettersRedriveCommand } from './dead-letters';
import { explainSource } from './explain';
import { monitorCommand } from './monitor';
import type { OpContext, Out } from './context';
import { rebuildCommand, replayCommand, verifyCommand, type RebuildOptions } from './operations';
import { rebuildIndexCommand } from './rebuild-index';
import { runCommand } from './run';
import { WaitAppliedUsage, waitAppliedCommand, type WaitAppliedOptions } from './wait-applied';

export interface CliIo {
  readonly out: Out;
  readonly err: Out;
  readonly env: NodeJS.ProcessEnv;
}

export function version(): string {
  // dist/src/cli → ../../.. ; src/cli (ts-jest) → ../..
  for (const up of ['../..', '../../..']) {
    const file = path.resolve(__dirname, up, 'package.json');
    if (existsSync(file))
      return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return 'unknown';
}

/** Parses argv (without node and script) and runs the command; resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => (code = c));
  try {
    // No command: the service (`run`), as before commander.
    await program.parseAsync(argv.length === 0 ? ['run'] : [...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  return code;
}

function buildProgram(io: CliIo, exit: (code: number) => void): Command {
  const program = new Command('mis-cache-sync')
    .description(
      'Keeps the MIS v2 Redis cache consistent with MySQL through Debezium change events on Kafka.',
    )
    .version(version(), '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError()
    .allowExcessArguments(false)
    .helpCommand('help [command]', 'help for a command');

  const loadConf = (offline = false): Config => {
    // explain is offline: the connection settings are not needed, so placeholders will do.
    const placeholders = offline
      ? { KAFKA_BROKERS: 'offline:9', REDIS_URL: 'redis://offline:6379' }
      : {};
    try {
      return loadConfig({ env: { ...placeholders, ...io.env } });
    } catch (err) {
      throw new UsageFailure(`configuration error: ${errorMessage(err)}`);
    }
  };
  const rulesOf = (config: Config): RuleSet => loadRules(config.rules.dir || DEFAULT_CONSUMERS_DIR);
  /** Runs an operator command with its context; errors become a message and an exit code. */
  const op =
    <A extends unknown[]>(name: string, fn: (ctx: OpContext, ...args: A) => Promise<number>) =>
    async (...args: A): Promise<void> => {
      try {
        const config = loadConf();
        const logger = createLogger(
          config.log.level === 'info' ? 'warn' : config.log.level,
          pino.destination(2),
        );
        exit(await fn({ config, rules: rulesOf(config), logger, out: io.out }, ...args));
      } catch (err) {
        exit(failure(io, name, err));
      }
    };

  program
    .command('run')
    .description('consume change events and invalidate Redis keys (the default command)')
    .action(async () => {
      try {
        exit(await runCommand(loadConf()));
      } catch (err) {
        exit(failure(io, 'run', err));
      }
    });

  program
    .command('explain')
    .description(
      'show, offline, which keys a change event would touch and why (exit 1 if any input is rejected)',
    )
    .argument(
      '<source>',
      'a Debezium event (JSON with or without schema, {"payload": …}, a flattened row, or Avro bytes with the Confluent/Apicurio framing), a record {topic?, key?, value|valueBase64} or an array; - for stdin',
    )
    .option('--registry <url>', 'schema registry for Avro input (default: SCHEMA_REGISTRY_URL)')
    .action(async (source: string, opts: { registry?: string }) => {
      try {
        const config = loadConf(true);
        const report = await explainSource(source, rulesOf(config), config, opts.registry);
        io.out(report.text);
        exit(report.rejected > 0 ? 1 : 0);
      } catch (err) {
        exit(failure(io, 'explain', err));
      }
    });

  program
    .command('replay')
    .description(
      're-apply the rules to the retained change topics (one-off group), list the keys it would touch (--dry-run), or move the service group back (--reset-group)',
    )
    .requiredOption(
      '--from <earliest|ISO>',
      'start point: earliest retained event, or the first at or after the timestamp',
    )
    .option('--tables <a,b>', 'only these tables')
    .option('--dry-run', 'list the keys, touch nothing')
    .option('--reset-group', "move the service's consumer group back instead")
    .action(
      op(
        'replay',
        (ctx, opts: { from: string; tables?: string; dryRun?: boolean; resetGroup?: boolean }) =>
          replayCommand({ ...ctx, opts }),
      ),
    );

  program
    .command('rebuild')
    .description(
      "warm the families that have loaders straight from MySQL; with --table, repair that table's keys through a Debezium incremental snapshot (each key verified, only stale ones deleted)",
    )
    .option('--families <list>', 'families to rebuild', 'master')
    .option(
      '--table <table>',
      'ask Debezium for an incremental snapshot of this table and repair its keys',
    )
    .option('--where <condition>', 'with --table: only the rows matching this SQL condition')
    .option(
      '--timeout <duration>',
      'with --table: give up when the snapshot has not completed by then',
      '10m',
    )
    .option(
      '--metrics-file <path>',
      'with --table: write the snapshot counters there (Prometheus text)',
    )
    .action(op('rebuild', (ctx, opts: RebuildOptions) => rebuildCommand({ ...ctx, opts })));

  program
    .command('rebuild-index')
    .description(
      'rebuild the row index of its tables (or --table) from MySQL, then mark them complete',
    )
    .option('--table <name...>', 'only these tables (repeatable)')
    .action(
      op('rebuild-index', (ctx, opts: { table?: string[] }) =>
        rebuildIndexCommand({ ...ctx, opts }),
      ),
    );

  program
    .command('verify')
    .description('check sampled cached keys against MySQL; exit 1 above the stale share')
    .option('--sample <n>', 'keys sampled per family', '200')
    .option('--families <list>', 'families to sample', 'session,permissions,master')
    .option('--max-stale <share>', 'largest stale share (0..1) that still passes', '0')
    .action(
      op('verify', (ctx, opts: { sample: string; families?: string; maxStale: string }) =>
        verifyCommand({ ...ctx, opts }),
      ),
    );

  program
    .command('monitor')
    .description(
      'continuous consistency: sample change events (own consumer group), check their keys against the truth after each window, export nines per window',
    )
    .option(
      '--repair',
      'delete keys still inconsistent at a later window than their first failure (counted in mis_cache_sync_monitor_repaired_total)',
    )
    .action(op('monitor', (ctx, opts: { repair?: boolean }) => monitorCommand(ctx, opts)));

  program
    .command('wait-applied')
    .description(
      'wait until the service applied a source write to Redis (exit 0), 1 on timeout; give the GTID or binlog position of the commit',
    )
    .option('--gtid <gtid>', 'the GTID of the write (MariaDB `SELECT @@last_gtid` after commit)')
    .option('--binlog <file:pos>', 'binlog position after the write, where GTIDs are off')
    .option('--timeout <duration>', 'how long to wait (500ms, 2s, 1m)', '10s')
    .action(
      op('wait-applied', (ctx, opts: WaitAppliedOptions) =>
        waitAppliedCommand(ctx, opts).catch((err: unknown) => {
          if (err instanceof WaitAppliedUsage) throw new UsageFailure(err.message);
          throw err;
        }),
      ),
    );

  program
    .command('check')
    .description(
      'check that Kafka, Kafka Connect, MySQL and Redis are set up as the service needs (exit 1 on any ✗)',
    )
    .action(op('check', (ctx) => checkCommand(ctx)));

  const dl = program
    .command('dead-letters')
    .description('list or re-apply the events on the dead-letter topic');
  dl.command('list')
    .description("print each dead-lettered event's origin, table, reason code and message")
    .option('--since <ISO>', 'only events dead-lettered at or after this time')
    .option('--reason <CODE>', 'only this error code (e.g. FIELD_INVALID)')
    .option('--table <T>', 'only this table')
    .action(
      op('dead-letters list', (ctx, opts: { since?: string; reason?: string; table?: string }) =>
        deadLettersListCommand(ctx, opts),
      ),
    );
  dl.command('redrive')
    .description(
      "re-apply the dead letters through today's rules (commit after Redis acknowledged); report which still fail",
    )
    .option('--dry-run', 'show what would be applied, touch nothing and commit nothing')
    .action(
      op('dead-letters redrive', (ctx, opts: { dryRun?: boolean }) =>
        deadLettersRedriveCommand(ctx, opts),
      ),
    );

  program
    .command('config')
    .description('print the effective configuration (secrets redacted)')
    .addOption(new Option('--doc', 'print every setting with its default and meaning'))
    .action(async (opts: { doc?: boolean }) => {
      if (opts.doc) {
        io.out(settingsDoc());
        return exit(0);
      }
      try {
        io.out(`${JSON.stringify(redactConfig(loadConf()), null, 2)}\n`);
        exit(0);
      } catch (err) {
        exit(failure(io, 'config', err));
      }
    });
  return program;
}

/** A usage or configuration problem found before the command ran (exit 2). */
class UsageFailure extends Error {}

function failure(io: CliIo, command: string, err: unknown): number {
  if (err instanceof UsageFailure) {
    io.err(`mis-cache-sync: ${err.message}\n`);
    return 2;
  }
  io.err(`mis-cache-sync: ${command}: ${errorMessage(err)}\n`);
  return isSetupError(err) ? 2 : 1;
}

function settingsDoc(): string {
  const rows = SETTINGS.map((s) => {
    const def = 'default' in s ? (s.default === '' ? '(empty)' : s.default) : '(required)';
    return `${s.env}\n  yaml: ${s.yaml}   default: ${def}\n  ${s.doc}\n`;
  });
  return `${rows.join('\n')}\n`;
}
