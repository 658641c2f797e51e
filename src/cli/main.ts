#!/usr/bin/env node
/**
 * Command line: `mis-cache-sync run` (the service), `mis-cache-sync config [--doc]`.
 * Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.
 */
import { loadConfig, redactConfig, type Config } from '../config/config';
import { loadRules, DEFAULT_CONSUMERS_DIR } from '../rules/registry';
import pino from 'pino';
import { explainEvents, readEventInput } from './explain';
import { rebuildCommand, replayCommand, verifyCommand } from './operations';

const OPERATIONS: Record<string, typeof replayCommand | undefined> = {
  replay: replayCommand,
  rebuild: rebuildCommand,
  verify: verifyCommand,
};
import { SETTINGS } from '../config/settings';
import { errorMessage, isSyncError } from '../errors';
import { startService } from '../service';
import { createLogger } from '../telemetry/logger';

const USAGE = `usage: mis-cache-sync <command>

commands:
  run            consume change events and invalidate Redis keys (default)
  explain <file|->  show, offline, which keys a change event would touch and why
  replay --from earliest|<ISO> [--tables a,b] [--dry-run] [--reset-group]
                 re-apply the rules to the retained change topics (one-off group), or list
                 the keys it would touch (--dry-run), or move the service group back (--reset-group)
  rebuild [--families master]
                 warm families that have loaders straight from MySQL
  verify [--sample 200] [--families session,permissions,master] [--max-stale 0]
                 check sampled cached keys against MySQL; exit 1 above the stale share
  config         print the effective configuration (secrets redacted)
  config --doc   print every setting with its default and meaning
  help           this text`;

/** How long a graceful stop may take before the process exits anyway. */
const STOP_TIMEOUT_MS = 15_000;

async function main(argv: string[]): Promise<number> {
  const [command = 'run', ...rest] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command === 'config' && rest.includes('--doc')) {
    process.stdout.write(settingsDoc());
    return 0;
  }
  let config: Config;
  try {
    // explain is offline: the connection settings are not needed, so placeholders will do.
    const offline =
      command === 'explain'
        ? { KAFKA_BROKERS: 'offline:9', REDIS_URL: 'redis://offline:6379' }
        : {};
    config = loadConfig({ env: { ...offline, ...process.env } });
  } catch (err) {
    process.stderr.write(`mis-cache-sync: configuration error: ${errorMessage(err)}\n`);
    return 2;
  }
  if (command === 'config') {
    process.stdout.write(`${JSON.stringify(redactConfig(config), null, 2)}\n`);
    return 0;
  }
  if (command === 'explain') {
    const [source] = rest;
    if (!source) {
      process.stderr.write(`mis-cache-sync: explain needs a file or - (stdin)\n${USAGE}\n`);
      return 2;
    }
    try {
      const rules = loadRules(config.rules.dir || DEFAULT_CONSUMERS_DIR);
      process.stdout.write(explainEvents(readEventInput(source), rules, config));
      return 0;
    } catch (err) {
      process.stderr.write(`mis-cache-sync: explain: ${errorMessage(err)}\n`);
      return 2;
    }
  }
  const operation = OPERATIONS[command];
  if (operation) {
    const logger = createLogger(
      config.log.level === 'info' ? 'warn' : config.log.level,
      pino.destination(2),
    );
    try {
      const rules = loadRules(config.rules.dir || DEFAULT_CONSUMERS_DIR);
      return await operation(rest, config, rules, logger, (text) => process.stdout.write(text));
    } catch (err) {
      process.stderr.write(`mis-cache-sync: ${command}: ${errorMessage(err)}\n`);
      return isSyncError(err) && err.code === 'CONFIG_INVALID' ? 2 : 1;
    }
  }
  if (command !== 'run') {
    process.stderr.write(`mis-cache-sync: unknown command "${command}"\n${USAGE}\n`);
    return 2;
  }
  return run(config);
}

async function run(config: Config): Promise<number> {
  const logger = createLogger(config.log.level);
  let service;
  try {
    service = await startService(config, logger);
  } catch (err) {
    const code = isSyncError(err) ? err.code : 'STARTUP_FAILED';
    logger.fatal({ code }, `cannot start: ${errorMessage(err)}`);
    // configuration: settings, rules, credentials, certificates or grants (not retried)
    return ['RULE_INVALID', 'CONFIG_INVALID', 'AUTH_FAILED', 'ACCESS_DENIED'].includes(code)
      ? 2
      : 1;
  }
  const running = service;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        resolve(1);
        return;
      }
      stopping = true;
      logger.info({ signal }, 'stopping: finishing the batch in flight');
      const timer = setTimeout(() => {
        logger.error({ timeoutMs: STOP_TIMEOUT_MS }, 'graceful stop timed out');
        resolve(1);
      }, STOP_TIMEOUT_MS);
      running.stop().then(
        () => {
          clearTimeout(timer);
          resolve(0);
        },
        (err) => {
          clearTimeout(timer);
          logger.error({ error: errorMessage(err) }, 'error while stopping');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
  });
}

function settingsDoc(): string {
  const rows = SETTINGS.map((s) => {
    const def = 'default' in s ? (s.default === '' ? '(empty)' : s.default) : '(required)';
    return `${s.env}\n  yaml: ${s.yaml}   default: ${def}\n  ${s.doc}\n`;
  });
  return `${rows.join('\n')}\n`;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`mis-cache-sync: ${errorMessage(err)}\n`);
    process.exit(1);
  },
);
