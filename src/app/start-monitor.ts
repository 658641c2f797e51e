/**
 * Start phase 7 (MCS_MONITOR_IN_SERVICE): the consistency monitor beside the intake, with its
 * own consumer group and loader.
 */
import { ConsistencyMonitor } from '../consistency/monitor';
import { createKafka } from '../intake/kafka';
import { createRowLoader } from '../mysql/loader';
import type { RedisClients } from '../redis/clients';
import type { Metrics } from '../telemetry/metrics';
import type { StartContext } from './start-context';

export async function startMonitor(
  ctx: StartContext,
  deps: { readonly redis: RedisClients; readonly metrics: Metrics },
): Promise<void> {
  const { config, rules, logger, closers } = ctx;
  if (!config.monitor.inService) return;
  const loader = createRowLoader(config.mysql.url, config.mysql.tls);
  closers.defer('monitor loader', () => loader.close());
  const monitor = new ConsistencyMonitor({
    kafka: createKafka(config.kafka, logger), // ops tools run on kafkajs (docs/reliability.md "Kafka clients")
    config,
    rules,
    ports: deps.redis.ports,
    loader,
    logger,
    registry: deps.metrics.registry,
  });
  // Before start(): its check loop runs from the first step of the start, which may fail.
  closers.defer('consistency monitor', () => monitor.stop());
  await monitor.start();
}
