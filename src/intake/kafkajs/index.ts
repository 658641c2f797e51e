/**
 * The intake's Kafka client on kafkajs (`MCS_KAFKA_CLIENT=kafkajs`), laid out as
 * `../platformatic/`: the group consumer (`consumer.ts`), the producer and the admin, all on the
 * `Kafka` of `../kafka.ts` (the set-up the operator tools share, `../topic-reader.ts`).
 */
import type { Config } from '../../config/config';
import type { Logger } from '../../telemetry/logger';
import type { KafkaClient } from '../client';
import { createKafka } from '../kafka';
import { ensureTopics, partitionCounts } from './admin';
import { KafkajsGroupConsumer } from './consumer';
import { kafkajsProducer } from './producer';

export function kafkajsClient(config: Config['kafka'], logger: Logger): KafkaClient {
  const kafka = createKafka(config, logger);
  return {
    name: 'kafkajs',
    consumer: (options) =>
      new KafkajsGroupConsumer(kafka, options, logger.child({ component: 'intake-kafkajs' })),
    producer: () => kafkajsProducer(kafka),
    ensureTopics: (topics) => ensureTopics(kafka, topics),
    partitionCounts: (topics) => partitionCounts(kafka, topics),
  };
}
