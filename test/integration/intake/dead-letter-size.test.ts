/**
 * A dead-letter copy larger than the dead-letter topic accepts (its `max.message.bytes`, on the
 * real broker) must not stall the partition: the broker refuses it for ever, so retrying cannot
 * help. A reference copy goes instead (no value; headers naming the error and the original
 * topic/partition/offset, and the dropped size), and the copies that fit keep their values.
 */
import type { Admin, KafkaMessage } from 'kafkajs';
import { createKafkaClient } from '../../../src/intake/client-factory';
import { DLQ_HEADERS, DeadLetterQueue } from '../../../src/intake/dead-letter';
import { SyncError } from '../../../src/core/errors';
import { createLogger } from '../../../src/telemetry/logger';
import type { Rejected } from '../../../src/intake/batch-plan';
import { createTopicsReady, kafka, testConfig, uniq, waitFor } from '../../support/stack';

const TOPIC_MAX_BYTES = 4096;

describe.each(['kafkajs', 'platformatic'] as const)(
  'dead-letter copy over the topic limit: %s',
  (client) => {
    let admin: Admin;
    const dlq = `mcs-dlq-size-${client}-${uniq()}`;

    beforeAll(async () => {
      admin = kafka().admin();
      await admin.connect();
      await createTopicsReady(admin, [
        {
          topic: dlq,
          numPartitions: 1,
          configEntries: [{ name: 'max.message.bytes', value: String(TOPIC_MAX_BYTES) }],
        },
      ]);
    });

    afterAll(async () => {
      await admin.deleteTopics({ topics: [dlq] }).catch(() => undefined);
      await admin.disconnect();
    });

    const rejected = (offset: string, valueBytes: number): Rejected => ({
      record: {
        topic: 'mis.mis.user_auth',
        partition: 0,
        offset,
        key: Buffer.from('{"auth_id":1}'),
        value: Buffer.from('x'.repeat(valueBytes)),
        headers: {},
      },
      place: { topic: 'mis.mis.user_auth', partition: 0, offset },
      table: 'user_auth',
      error: new SyncError('ENVELOPE_MALFORMED', 'not JSON'),
    });

    it('sends a reference copy naming the place instead of stalling, keeps the ones that fit', async () => {
      const config = testConfig({ MCS_KAFKA_CLIENT: client });
      const kc = await createKafkaClient(config.kafka, createLogger('silent'));
      const producer = kc.producer();
      await producer.connect();
      try {
        const queue = new DeadLetterQueue(producer, dlq);
        await queue.send([
          rejected('7', 100),
          rejected('8', 3 * TOPIC_MAX_BYTES),
          rejected('9', 50),
        ]);
      } finally {
        await producer.disconnect();
      }
      const got: KafkaMessage[] = [];
      const consumer = kafka().consumer({ groupId: `mcs-dlq-size-read-${uniq()}` });
      await consumer.connect();
      await consumer.subscribe({ topics: [dlq], fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void got.push(message) });
      try {
        await waitFor(async () => got.length >= 3, 30_000, 'three copies on the dead-letter topic');
      } finally {
        await consumer.disconnect();
      }
      const h = (m: KafkaMessage, k: string) => m.headers?.[k]?.toString();
      expect(
        got.map((m) => [h(m, DLQ_HEADERS.offset), m.value?.length ?? 0, h(m, DLQ_HEADERS.dropped)]),
      ).toEqual([
        ['7', 100, undefined],
        ['8', 0, String(3 * TOPIC_MAX_BYTES)],
        ['9', 50, undefined],
      ]);
      const ref = got[1]!;
      expect([
        h(ref, DLQ_HEADERS.topic),
        h(ref, DLQ_HEADERS.partition),
        h(ref, DLQ_HEADERS.code),
      ]).toEqual(['mis.mis.user_auth', '0', 'ENVELOPE_MALFORMED']);
    });
  },
);
