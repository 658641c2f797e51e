/**
 * Both Kafka clients tell the partitions of each existing topic (the row index ends a snapshot
 * only once every partition of its topic passed it); a topic that does not exist is left out.
 */
import type { Admin } from 'kafkajs';
import { createKafkaClient } from '../../../src/intake/client-factory';
import { createLogger } from '../../../src/telemetry/logger';
import { createTopicsReady, kafka, testConfig, uniq } from '../../support/stack';

describe.each(['kafkajs', 'platformatic'] as const)('partition counts: %s', (client) => {
  let admin: Admin;
  const topic = `mcs-partitions-${client}-${uniq()}`;

  beforeAll(async () => {
    admin = kafka().admin();
    await admin.connect();
    await createTopicsReady(admin, [{ topic, numPartitions: 3 }]);
  });
  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('3 for a topic of three partitions, nothing for a missing one', async () => {
    const config = testConfig({ MCS_KAFKA_CLIENT: client });
    const kc = await createKafkaClient(config.kafka, createLogger('silent'));
    const counts = await kc.partitionCounts?.([topic, `${topic}-missing`]);
    expect(counts).toEqual(new Map([[topic, 3]]));
  });
});
