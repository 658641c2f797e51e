/** Topic creation and start offsets on kafkajs' admin client. */
import type { Kafka } from 'kafkajs';
import { committedOf, seedStarts } from '../start-offsets';

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

/**
 * Commits the reset policy's offset for every partition of `topics` the group has no commit for
 * (start-offsets.ts). Only an empty group accepts it (the broker refuses commits from outside a
 * live generation): false when it has members, whose first batches then make their starts
 * concrete themselves.
 */
export async function seedGroupStarts(
  kafka: Kafka,
  options: { groupId: string; topics: readonly string[]; fromBeginning: boolean },
): Promise<boolean> {
  if (options.fromBeginning) return true; // earliest needs no seed (seedStarts)
  const admin = kafka.admin();
  await admin.connect();
  try {
    const committed = await admin.fetchOffsets({
      groupId: options.groupId,
      topics: [...options.topics],
    });
    for (const topic of options.topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      const done = committed.find((t) => t.topic === topic)?.partitions ?? [];
      const seeds = seedStarts(
        ends.map((e) => ({
          partition: e.partition,
          committed: committedOf(done.find((d) => d.partition === e.partition)?.offset),
          low: BigInt(e.low),
          high: BigInt(e.high),
        })),
        options.fromBeginning,
      );
      if (seeds.length === 0) continue;
      const partitions = seeds.map((s) => ({ partition: s.partition, offset: String(s.offset) }));
      try {
        await admin.setOffsets({ groupId: options.groupId, topic, partitions });
      } catch {
        return false; // the group has members
      }
    }
    return true;
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
