/**
 * The intake's Kafka client contract (src/intake/client.ts), for each client, on the real broker:
 * batches of a partition come in offset order and never two at once, even though kafkajs fetches
 * ahead of the batch being applied; a batch whose handler fails is handed over again with every
 * batch after it (no gap: a gap is a lost invalidation); the committed offset ends at the end
 * of the partition.
 */
import type { Admin } from 'kafkajs';
import { createKafkaClient } from '../../../src/intake/client-factory';
import type { GroupConsumer } from '../../../src/intake/client';
import { createLogger } from '../../../src/telemetry/logger';
import { createTopicsReady, kafka, testConfig, uniq, waitFor } from '../../support/stack';

const RECORDS = 3000;
const VALUE = 'x'.repeat(1024); // 3 MB in all: several fetches of the default 1 MiB per partition
const FAIL_AT = 1500;

describe.each(['kafkajs', 'platformatic'] as const)('intake client contract: %s', (client) => {
  let admin: Admin;
  const topic = `mcs-contract-${client}-${uniq()}`;

  beforeAll(async () => {
    admin = kafka().admin();
    await admin.connect();
    await createTopicsReady(admin, [{ topic, numPartitions: 1 }]);
    const producer = kafka().producer();
    await producer.connect();
    for (let i = 0; i < RECORDS; i += 500) {
      const messages = Array.from({ length: 500 }, (_, j) => ({ key: `${i + j}`, value: VALUE }));
      await producer.send({ topic, messages });
    }
    await producer.disconnect();
  });

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('in order, one batch at a time, a failed batch handed over again with all after it', async () => {
    const config = testConfig({ MCS_KAFKA_CLIENT: client });
    const logger = createLogger('silent');
    const kc = await createKafkaClient(config.kafka, logger);
    let inFlight = 0;
    let maxInFlight = 0;
    let failed = false;
    let next = 0; // the offset after the last one a successful batch handled
    const gaps: string[] = [];
    const calls: { first: number; last: number; ok: boolean }[] = [];
    const consumer: GroupConsumer = kc.consumer({
      groupId: config.kafka.groupId,
      topics: [topic],
      fromBeginning: true,
      sessionTimeoutMs: 30_000,
      partitionsConcurrency: 1,
      fetchBytesPerPartition: config.kafka.fetchBytesPerPartition,
      events: { joined: () => undefined, crashed: () => undefined, stopped: () => undefined },
    });
    await consumer.start(async (batch, handle) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        const first = Number(batch.records[0]?.offset);
        const last = Number(batch.records[batch.records.length - 1]?.offset);
        await new Promise((r) => setTimeout(r, 5)); // Redis work: lets a fetch ahead overlap it
        if (!failed && first <= FAIL_AT && FAIL_AT <= last) {
          failed = true;
          calls.push({ first, last, ok: false });
          throw new Error(`injected failure of the batch ${first}..${last}`);
        }
        calls.push({ first, last, ok: true });
        if (first > next) gaps.push(`${next}..${first - 1}`);
        next = Math.max(next, last + 1);
        await handle.commit();
      } finally {
        inFlight -= 1;
      }
    });
    try {
      await waitFor(
        async () => {
          const [p] =
            (await admin.fetchOffsets({ groupId: config.kafka.groupId, topics: [topic] }))[0]
              ?.partitions ?? [];
          return p?.offset === String(RECORDS);
        },
        60_000,
        `the committed offset of ${topic} to reach ${RECORDS}`,
        100,
      );
    } finally {
      await consumer.stop();
    }
    expect(failed).toBe(true);
    expect(calls.length).toBeGreaterThan(3);
    expect(maxInFlight).toBe(1);
    expect(gaps).toEqual([]);
    expect(next).toBe(RECORDS);
    // the failed batch's first offset was handed over again, by a batch that succeeded
    const bad = calls.find((c) => !c.ok);
    expect(calls.some((c) => c.ok && c.first <= bad!.first && bad!.first <= c.last)).toBe(true);
  });
});
