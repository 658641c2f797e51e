/**
 * Start phase 8, the last: the periodic work once the intake runs: the daily stats job, the
 * second pass's drain, the stats line in the log.
 */
import type { RedisClients } from '../redis/clients';
import { DailyStatsJob } from '../schedule/daily-stats';
import type { Counters } from '../telemetry/counters';
import type { Metrics } from '../telemetry/metrics';
import type { Keys } from './start-keys';
import type { StartContext } from './start-context';

export async function startSchedule(
  ctx: StartContext,
  deps: {
    readonly redis: RedisClients;
    readonly keys: Keys;
    readonly counters: Counters;
    readonly metrics: Metrics;
  },
): Promise<void> {
  const { config, logger, closers } = ctx;
  const { keys, counters } = deps;
  if (config.schedule.dailyStatsCron) {
    const daily = new DailyStatsJob(
      deps.redis.ports.stats,
      {
        cron: config.schedule.dailyStatsCron,
        zone: config.time.zone,
        pattern: config.schedule.dailyStatsPattern,
        lockTtl: config.redis.ttl.lock,
        scanCount: config.redis.scanCount,
        unlinkBatch: config.redis.unlinkBatch,
        budget: keys.patterns.budget,
        observer: {
          busyRetry: () => deps.metrics.state.dailyStatsBusyRetry(),
          pending: (n) => deps.metrics.state.dailyStatsPending(n),
        },
      },
      logger.child({ component: 'schedule' }),
    );
    closers.defer('daily stats', () => daily.stop());
    await daily.start();
  }
  // Its stop() was registered with the executor (start-keys.ts), below the intake's.
  keys.secondPass.start({
    apply: async (ops) => {
      const result = await keys.executor.apply(ops);
      counters.add('secondPassOps', ops.length);
      return result;
    },
  });
  if (config.log.statsIntervalMs > 0) {
    const statsTimer = setInterval(
      () => logger.info({ counters: counters.snapshot() }, 'stats'),
      config.log.statsIntervalMs,
    );
    statsTimer.unref();
    closers.defer('stats timer', () => clearInterval(statsTimer));
  }
}
