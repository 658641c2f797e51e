/**
 * Dead letters pending: records retained in the dead-letter topic that no redrive has passed
 * yet. Per partition: the end offset minus the redrive group's committed offset
 * (`<MCS_GROUP_ID>-dlq-redrive`, moved only after Redis acknowledged the redriven records), or
 * minus the oldest retained offset when the group has none or points below it (records aged
 * out of the topic are gone, not pending). A record that still fails on redrive is appended
 * again with its new reason, so it stays pending. Reference copies (value too large, not kept)
 * count until a redrive passes them.
 */
import type { Kafka } from 'kafkajs';
import type { Config } from '../config/config';

/** The group whose committed offsets mark what `dead-letters redrive` has done. */
export function redriveGroup(config: Config): string {
  return `${config.kafka.groupId}-dlq-redrive`;
}

export interface PendingDeadLetters {
  /** Records not yet redriven; 0 when the topic does not exist (nothing was dead-lettered). */
  readonly total: number;
  readonly partitions: readonly { readonly partition: number; readonly pending: number }[];
}

export async function pendingDeadLetters(
  kafka: Kafka,
  config: Config,
): Promise<PendingDeadLetters> {
  const topic = config.kafka.deadLetterTopic;
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return { total: 0, partitions: [] };
    const ends = await admin.fetchTopicOffsets(topic);
    const [done] = await admin.fetchOffsets({ groupId: redriveGroup(config), topics: [topic] });
    const partitions = [...ends]
      .sort((a, b) => a.partition - b.partition)
      .map((e) => {
        const low = BigInt(e.low);
        const c = done?.partitions.find((p) => p.partition === e.partition)?.offset;
        const from = c === undefined || BigInt(c) < low ? low : BigInt(c);
        const high = BigInt(e.high);
        return { partition: e.partition, pending: Number(high > from ? high - from : 0n) };
      });
    return { total: partitions.reduce((n, p) => n + p.pending, 0), partitions };
  } finally {
    await admin.disconnect();
  }
}
