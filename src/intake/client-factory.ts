/** Picks the intake's Kafka client (`MCS_KAFKA_CLIENT`); the rest of the service sees `KafkaClient`. */
import type { Config } from '../config/config';
import type { Logger } from '../telemetry/logger';
import type { KafkaClient } from './client';
import { kafkajsClient } from './kafkajs-client';
import { platformaticClient } from './platformatic-client';

export function createKafkaClient(config: Config['kafka'], logger: Logger): KafkaClient {
  return config.client === 'platformatic'
    ? platformaticClient(config, logger)
    : kafkajsClient(config, logger);
}
