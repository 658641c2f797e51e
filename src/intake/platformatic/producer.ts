/** The dead-letter producer on @platformatic/kafka (acks=all, topics created when missing). */
import { Producer } from '@platformatic/kafka';
import type { OutgoingRecord, RecordProducer } from '../client';
import { kafkaError } from './errors';
import type { BaseOptions } from './options';

export function platformaticProducer(base: BaseOptions): RecordProducer {
  let producer: Producer | undefined;
  return {
    async connect() {
      producer ??= new Producer({ ...base, autocreateTopics: true });
    },
    async disconnect() {
      await producer?.close();
      producer = undefined;
    },
    async send(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
      producer ??= new Producer({ ...base, autocreateTopics: true });
      await producer
        .send({
          acks: -1,
          messages: records.map((r) => ({
            topic,
            ...(r.key === null ? {} : { key: r.key }),
            ...(r.value === null ? {} : { value: r.value }),
            headers: new Map(
              Object.entries(r.headers).map(([k, v]) => [
                Buffer.from(k),
                Buffer.isBuffer(v) ? v : Buffer.from(v),
              ]),
            ),
          })),
        })
        .catch((err: unknown) => {
          throw kafkaError(err);
        });
    },
  };
}
