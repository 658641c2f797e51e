/**
 * The intake's Kafka client on @platformatic/kafka (`MCS_KAFKA_CLIENT=platformatic`), one file per
 * part as the library lays itself out: connection options (`options.ts`), the group consumer
 * (`consumer.ts`, with its messages in `messages.ts`), the producer, the admin, and the error
 * mapping (`errors.ts`) the startup diagnosis reads.
 */
import type { Config } from '../../config/config';
import type { Logger } from '../../telemetry/logger';
import type { KafkaClient } from '../client';
import { ensureTopics, partitionCounts } from './admin';
import { PlatformaticGroupConsumer } from './consumer';
import { connectionOptions } from './options';
import { platformaticProducer } from './producer';

export { kafkaError } from './errors';

export function platformaticClient(config: Config['kafka'], logger: Logger): KafkaClient {
  const base = connectionOptions(config);
  const log = logger.child({ component: 'platformatic-kafka' });
  return {
    name: 'platformatic',
    consumer: (options) => new PlatformaticGroupConsumer(base, options, log),
    producer: () => platformaticProducer(base),
    ensureTopics: (topics) => ensureTopics(base, topics),
    partitionCounts: (topics) => partitionCounts(base, topics),
  };
}
