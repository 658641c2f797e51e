/** The intake's Kafka client on kafkajs (`MCS_KAFKA_CLIENT=kafkajs`). */
import { Partitioners, type EachBatchPayload, type Kafka } from 'kafkajs';
import type { Config } from '../config/config';
import type { RawRecord } from '../envelope/types';
import type { Logger } from '../telemetry/logger';
import {
  commitFailed,
  type BatchHandler,
  type GroupConsumer,
  type GroupConsumerOptions,
  type KafkaClient,
  type OutgoingRecord,
  type RecordProducer,
} from './client';
import { createKafka } from './kafka';

export function kafkajsClient(config: Config['kafka'], logger: Logger): KafkaClient {
  const kafka = createKafka(config, logger);
  return {
    name: 'kafkajs',
    consumer: (options) => new KafkajsGroupConsumer(kafka, options),
    producer: () => kafkajsProducer(kafka),
    ensureTopics: (topics) => ensureTopics(kafka, topics),
  };
}

class KafkajsGroupConsumer implements GroupConsumer {
  private readonly consumer;

  constructor(
    kafka: Kafka,
    private readonly options: GroupConsumerOptions,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.floor(options.sessionTimeoutMs / 10),
    });
    const { events } = this.consumer;
    this.consumer.on(events.GROUP_JOIN, (e) =>
      options.events.joined({
        memberId: e.payload.memberId,
        assigned: e.payload.memberAssignment,
      }),
    );
    this.consumer.on(events.CRASH, (e) => options.events.crashed(e.payload.error));
    this.consumer.on(events.STOP, () => options.events.stopped());
  }

  async start(handler: BatchHandler): Promise<void> {
    const joined = new Promise<void>((resolve) => {
      const off = this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
        off();
        resolve();
      });
    });
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: [...this.options.topics],
      fromBeginning: this.options.fromBeginning,
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConcurrency,
      eachBatch: (payload) => this.handleBatch(payload, handler),
    });
    await joined;
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  private async handleBatch(payload: EachBatchPayload, handler: BatchHandler): Promise<void> {
    const { batch } = payload;
    const last = batch.messages[batch.messages.length - 1];
    if (!last) return;
    const records: RawRecord[] = batch.messages.map((m) => ({
      topic: batch.topic,
      partition: batch.partition,
      offset: m.offset,
      key: m.key,
      value: m.value,
      timestamp: m.timestamp,
      headers: m.headers ?? {},
    }));
    await handler(
      {
        topic: batch.topic,
        partition: batch.partition,
        records,
        highWatermark: batch.highWatermark,
      },
      {
        isActive: () => payload.isRunning() && !payload.isStale(),
        heartbeat: () => payload.heartbeat(),
        commit: async () => {
          payload.resolveOffset(last.offset);
          await payload
            .commitOffsetsIfNecessary(payload.uncommittedOffsets())
            .catch((err: unknown) => {
              throw commitFailed(batch.topic, batch.partition, last.offset, err);
            });
          await payload.heartbeat();
        },
      },
    );
  }
}

/** Also the producer of the dead-letter redrive (ops tools run on kafkajs). */
export function kafkajsProducer(kafka: Kafka): RecordProducer {
  const producer = kafka.producer({
    allowAutoTopicCreation: true,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  return {
    connect: () => producer.connect(),
    disconnect: () => producer.disconnect(),
    async send(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
      const messages = records.map((r) => ({ key: r.key, value: r.value, headers: r.headers }));
      await producer.send({ topic, messages, acks: -1 });
    },
  };
}

/** Debezium creates a table's topic only with its first event; subscribe needs it to exist. */
async function ensureTopics(kafka: Kafka, topics: readonly string[]): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({
        topics: missing.map((topic) => ({ topic })),
        waitForLeaders: true,
      });
    }
    return missing;
  } finally {
    await admin.disconnect();
  }
}
