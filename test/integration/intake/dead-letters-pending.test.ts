/**
 * `mis_cache_sync_dead_letters_pending` and its `check` line on the real broker: records in the
 * dead-letter topic past the redrive group's committed offset (src/intake/dead-letters-pending.ts).
 * The test owns its dead-letter topic and group id.
 */
import type { Admin } from 'kafkajs';
import { pendingDeadLetters, redriveGroup } from '../../../src/intake/dead-letters-pending';
import { pendingSampler } from '../../../src/intake/pending-sampler';
import { deadLettersLine } from '../../../src/preflight/check-dead-letters';
import { Metrics } from '../../../src/telemetry/metrics';
import { silentLogger } from '../../../src/telemetry/logger';
import { createTopicsReady, kafka, testConfig, uniq } from '../../support/stack';

describe('dead letters pending', () => {
  let admin: Admin;
  const id = uniq();
  const topic = `mcs-dlq-pending-${id}`;
  const config = testConfig({ MCS_DLQ_TOPIC: topic, MCS_GROUP_ID: `mcs-dlq-pending-${id}` });

  beforeAll(async () => {
    admin = kafka().admin();
    await admin.connect();
  });

  afterAll(async () => {
    await admin.deleteGroups([redriveGroup(config)]).catch(() => undefined);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('counts what no redrive passed yet, per partition, and check names it', async () => {
    expect(await pendingDeadLetters(kafka(), config)).toEqual({ total: 0, partitions: [] });
    expect((await deadLettersLine(kafka(), config)).ok).toBe(true); // no topic: nothing kept

    await createTopicsReady(admin, [{ topic, numPartitions: 2 }]);
    const producer = kafka().producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        ...Array.from({ length: 3 }, (_, i) => ({ value: `a${i}`, partition: 0 })),
        ...Array.from({ length: 2 }, (_, i) => ({ value: `b${i}`, partition: 1 })),
      ],
    });
    await producer.disconnect();
    expect(await pendingDeadLetters(kafka(), config)).toEqual({
      total: 5,
      partitions: [
        { partition: 0, pending: 3 },
        { partition: 1, pending: 2 },
      ],
    });

    // a redrive passed partition 0 and the first record of partition 1
    await admin.setOffsets({
      groupId: redriveGroup(config),
      topic,
      partitions: [
        { partition: 0, offset: '3' },
        { partition: 1, offset: '1' },
      ],
    });
    expect((await pendingDeadLetters(kafka(), config)).total).toBe(1);
    const line = await deadLettersLine(kafka(), config);
    expect([line.ok, line.detail]).toEqual(['warn', `1 not yet redriven (${topic}/1: 1)`]);

    const metrics = new Metrics();
    metrics.setDeadLettersPendingSource(
      pendingSampler({ kafka: kafka(), config, logger: silentLogger() }),
    );
    expect(await metrics.registry.metrics()).toMatch(/^mis_cache_sync_dead_letters_pending 1$/m);
  });
});
