/** Topic creation on kafkajs' admin client. */
import type { Kafka } from 'kafkajs';

/** Debezium creates a table's topic only with its first event; subscribe needs it to exist. */
export async function ensureTopics(kafka: Kafka, topics: readonly string[]): Promise<string[]> {
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

/** Partitions per existing topic (metadata of the topics asked). */
export async function partitionCounts(
  kafka: Kafka,
  topics: readonly string[],
): Promise<Map<string, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const asked = topics.filter((t) => existing.has(t));
    const meta = asked.length > 0 ? await admin.fetchTopicMetadata({ topics: asked }) : undefined;
    return new Map((meta?.topics ?? []).map((t) => [t.name, t.partitions.length]));
  } finally {
    await admin.disconnect();
  }
}
