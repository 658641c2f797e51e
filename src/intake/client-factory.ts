/**
 * Picks the intake's Kafka client (`MCS_KAFKA_CLIENT`); the rest of the service sees `KafkaClient`.
 * Each library is loaded only when chosen (startup time, and no ESM loading for kafkajs runs).
 */
import type { Config } from '../config/config';
import type { Logger } from '../telemetry/logger';
import type { KafkaClient } from './client';

export async function createKafkaClient(
  config: Config['kafka'],
  logger: Logger,
): Promise<KafkaClient> {
  if (config.client === 'platformatic') {
    const { platformaticClient } = await import('./platformatic');
    return platformaticClient(config, logger);
  }
  const { kafkajsClient } = await import('./kafkajs');
  return kafkajsClient(config, logger);
}
