/** The intake's producer on kafkajs (acks=all, topics created when missing). */
import { Partitioners, type Kafka } from 'kafkajs';
import type { OutgoingRecord, RecordProducer } from '../client';

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
