/**
 * The dead-letter read on a partition longer than one fetch (kafkajs fetches at most 1 MiB of a
 * partition at a time): `list` sees every record once and ends. Own dead-letter topic.
 */
import { DLQ_HEADERS } from '../../../src/intake/dead-letter';
import { createKafka } from '../../../src/intake/kafka';
import { listDeadLetters } from '../../../src/ops/dead-letters';
import { silentLogger } from '../../../src/telemetry/logger';
import { createTopicsReady, kafka, testConfig, uniq } from '../../support/stack';

describe('dead-letter read', () => {
  it('lists a partition longer than one fetch, each record once', async () => {
    const topic = `mcs-test-dlq-long-${uniq()}`;
    const config = testConfig({ MCS_DLQ_TOPIC: topic });
    const admin = kafka().admin();
    await admin.connect();
    const producer = kafka().producer();
    try {
      await createTopicsReady(admin, [{ topic, numPartitions: 1 }]);
      await producer.connect();
      const value = Buffer.alloc(400 * 1024, 'x'); // 4 × 400 KiB: three fetches at least
      for (let i = 0; i < 4; i++) {
        await producer.send({
          topic,
          acks: -1,
          messages: [
            {
              key: `k${i}`,
              value,
              headers: {
                [DLQ_HEADERS.code]: 'DECODE_FAILED',
                [DLQ_HEADERS.message]: 'test',
                [DLQ_HEADERS.topic]: 'mis.mis.users',
                [DLQ_HEADERS.partition]: '0',
                [DLQ_HEADERS.offset]: String(100 + i),
              },
            },
          ],
        });
      }
      const letters = await listDeadLetters({
        kafka: createKafka(config.kafka, silentLogger()),
        config,
        logger: silentLogger(),
      });
      expect(letters.map((l) => [l.dlq.offset, l.origin.offset, l.record.value?.length])).toEqual(
        [0, 1, 2, 3].map((i) => [String(i), String(100 + i), value.length]),
      );
    } finally {
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  }, 60_000);
});
