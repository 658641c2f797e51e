/**
 * Wires the layers: rules (consumers/) → Redis clients + executor → Kafka intake, as named start
 * phases (start-*.ts) run in order. Startup failures name the part that failed; a Redis that is
 * down at start is waited for, not crashed on.
 *
 * Teardown is one closer stack (closers.ts): each phase registers the close of what it opened as
 * soon as it is open, and a failed start and `stop()` both run the stack once, newest first.
 * Registration follows the start, so the close order is its reverse:
 *
 *   stats timer, daily stats, consistency monitor, monitor loader, heartbeats
 *                     (work beside the intake)
 *   intake            leaves the group after the batch in flight, its offsets committed: it
 *                     still needs the executor, Redis, the row index and the loader until then
 *   dead-letter producer  after the intake, which hands it the poison records of its last batch
 *   second pass       its drain in flight applies through the executor and Redis
 *   pattern index     before the Redis clients (keys/executor-setup.ts)
 *   mysql loader, row index, redis clients                   (nothing uses them any more)
 *   http endpoint     last: /healthz and /metrics answer, and /readyz tells, during the drain
 */
import type { Config } from '../config/config';
import { AppliedMarks } from '../intake/applied/marks';
import type { ChangeIntake } from '../intake/consumer';
import type { PatternDeletes } from '../keys/pattern-deletes';
import { createRedisClients } from '../redis/clients';
import { DEFAULT_CONSUMERS_DIR, loadRules, type RuleSet } from '../rules/registry';
import type { Counters } from '../telemetry/counters';
import type { Logger } from '../telemetry/logger';
import type { Metrics } from '../telemetry/metrics';
import { Closers } from './closers';
import type { StartContext } from './start-context';
import { startHeartbeats } from './start-heartbeats';
import { startIntake } from './start-intake';
import { startKeys } from './start-keys';
import { startMonitor } from './start-monitor';
import { connectRedis } from './start-redis';
import { startSchedule } from './start-schedule';
import { connectMysql, openRowIndexPhase } from './start-stores';
import { startTelemetry } from './start-telemetry';

export interface RunningService {
  readonly rules: RuleSet;
  readonly counters: Counters;
  readonly metrics: Metrics;
  /** Port of the metrics and health endpoint; undefined when it is off or could not bind. */
  readonly httpPort: number | undefined;
  /** Pattern index per DB and the walk budget (bench, tests). */
  readonly patterns: PatternDeletes;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Gives up a start that is still waiting for Redis (rejects after closing what it opened). */
  readonly signal?: AbortSignal;
  /** Told the endpoint's port as soon as it listens, before Redis and Kafka are waited for. */
  readonly onHttpListening?: (port: number) => void;
}

export async function startService(
  config: Config,
  logger: Logger,
  options: StartOptions = {},
): Promise<RunningService> {
  const rules = loadRules(config.rules.dir || DEFAULT_CONSUMERS_DIR);
  logger.info({ tables: rules.tables, dir: rules.dir }, 'table rules loaded');
  const closers = new Closers(logger);
  try {
    return await startPhases({ config, logger, rules, closers }, options);
  } catch (err) {
    await closers.closeAll(); // a failing close is logged; the start's own error is thrown
    throw err;
  }
}

async function startPhases(ctx: StartContext, options: StartOptions): Promise<RunningService> {
  const { config, logger, rules, closers } = ctx;
  const redis = createRedisClients(config.redis, logger.child({ component: 'redis' }));
  let intake: ChangeIntake | undefined = undefined; // set once Kafka is reached
  const applied = config.kafka.appliedTracking ? new AppliedMarks(redis.ports.temp) : undefined;
  const { counters, metrics, http } = await startTelemetry(ctx, {
    redis,
    ...(applied ? { applied } : {}),
    intakeState: () => intake?.state,
    intakeSkipping: () => intake?.skippingAll,
    onHttpListening: options.onHttpListening,
  });
  await connectRedis(ctx, redis, options.signal);
  const rowIndex = await openRowIndexPhase(ctx);
  if (rowIndex) metrics.setRowIndexSource(() => rowIndex.state());
  const loader = await connectMysql(ctx);
  const keys = await startKeys(ctx, { redis, loader, metrics });
  const started = await startIntake(ctx, {
    keys,
    counters,
    metrics,
    rowIndex,
    ...(applied ? { applied } : {}),
    onCreated: (created) => (intake = created),
  });
  await startHeartbeats(ctx, { metrics, changeTopics: started.topics });
  await startMonitor(ctx, { redis, metrics });
  await startSchedule(ctx, { redis, keys, counters, metrics });

  let stopping: Promise<void> | undefined;
  const stop = async () => {
    const failures = await closers.closeAll();
    // As before: a close that failed fails the stop (the CLI exits 1), now after all the others ran.
    if (failures[0]) throw failures[0].error;
    logger.info({ counters: counters.snapshot() }, 'stopped');
  };
  return {
    rules,
    counters,
    metrics,
    httpPort: http?.port,
    patterns: keys.patterns,
    stop: () => (stopping ??= stop()),
  };
}
