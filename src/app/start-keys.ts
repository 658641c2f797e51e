/**
 * Start phase 5: what applies key operations to Redis: the executor with the pattern index, and
 * the second pass (its drain starts with the schedule, once the intake runs).
 */
import type { RowLoader } from '../mysql/loader';
import type { RedisClients } from '../redis/clients';
import type { KeyExecutor } from '../keys/executor';
import { startKeyExecutor } from '../keys/executor-setup';
import type { PatternDeletes } from '../keys/pattern-deletes';
import { SecondPass } from '../keys/second-pass';
import type { Metrics } from '../telemetry/metrics';
import type { StartContext } from './start-context';

export interface Keys {
  readonly executor: KeyExecutor;
  readonly patterns: PatternDeletes;
  readonly secondPass: SecondPass;
}

export async function startKeys(
  ctx: StartContext,
  deps: {
    readonly redis: RedisClients;
    readonly loader: RowLoader | undefined;
    readonly metrics: Metrics;
  },
): Promise<Keys> {
  const { config, rules, logger, closers } = ctx;
  const { executor, patterns } = await startKeyExecutor({
    config: config.redis,
    rules,
    clients: deps.redis,
    loader: deps.loader,
    logger,
    onIndexTrust: (server, db, trusted) =>
      deps.metrics.state.setPatternIndexTrusted(server, db, trusted),
  });
  closers.defer('pattern index', () => patterns.close());
  // Always drains passes left from earlier runs; schedules new ones only with a delay set.
  const secondPass = new SecondPass({
    port: deps.redis.ports.temp,
    delayMs: config.redis.secondPassDelayMs,
    logger: logger.child({ component: 'second-pass' }),
  });
  // Registered before the intake (stopped after it) and after the pattern index: a drain in
  // flight is awaited while the executor, the pattern index and Redis still serve it.
  closers.defer('second pass', () => secondPass.stop());
  return { executor, patterns, secondPass };
}
