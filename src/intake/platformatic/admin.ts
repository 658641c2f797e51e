/** Topic creation and start offsets on @platformatic/kafka's admin client. */
import { Admin } from '@platformatic/kafka';
import { seedStarts } from '../start-offsets';
import { kafkaError } from './errors';
import type { BaseOptions } from './options';

export async function ensureTopics(
  base: BaseOptions,
  topics: readonly string[],
): Promise<string[]> {
  const admin = new Admin(base);
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) await admin.createTopics({ topics: missing });
    return missing;
  } catch (err) {
    throw kafkaError(err);
  } finally {
    await admin.close();
  }
}

/** End offsets per topic, one a partition (the consumer's listOffsets; no membership needed). */
export type OffsetsLister = (timestamp: -1n | -2n) => Promise<Map<string, bigint[]>>;

/**
 * Commits the reset policy's offset for every partition of `topics` the group has no commit for
 * (start-offsets.ts). Only an empty group accepts it: false when it has members, whose first
 * batches then make their starts concrete themselves.
 */
export async function seedGroupStarts(
  base: BaseOptions,
  listOffsets: OffsetsLister,
  options: { groupId: string; topics: readonly string[]; fromBeginning: boolean },
): Promise<boolean> {
  if (options.fromBeginning) return true; // earliest needs no seed (seedStarts)
  const admin = new Admin(base);
  try {
    const [group] = await admin.listConsumerGroupOffsets({ groups: [options.groupId] });
    const lows = await listOffsets(-2n);
    const highs = await listOffsets(-1n);
    const topics: { name: string; partitionOffsets: { partition: number; offset: bigint }[] }[] =
      [];
    for (const name of options.topics) {
      const done = group?.topics.find((t) => t.name === name)?.partitions ?? [];
      const high = highs.get(name) ?? [];
      const seeds = seedStarts(
        high.map((h, i) => {
          const c = done.find((d) => d.partitionIndex === i)?.committedOffset;
          return {
            partition: i,
            committed: c === undefined || c < 0n ? undefined : c,
            low: lows.get(name)?.[i] ?? 0n,
            high: h,
          };
        }),
        options.fromBeginning,
      );
      if (seeds.length > 0) topics.push({ name, partitionOffsets: seeds });
    }
    if (topics.length === 0) return true;
    try {
      await admin.alterConsumerGroupOffsets({ groupId: options.groupId, topics });
    } catch {
      return false; // the group has members
    }
    return true;
  } catch (err) {
    throw kafkaError(err);
  } finally {
    await admin.close();
  }
}

/** Partitions per existing topic (metadata of the topics asked). */
export async function partitionCounts(
  base: BaseOptions,
  topics: readonly string[],
): Promise<Map<string, number>> {
  const admin = new Admin(base);
  try {
    const existing = new Set(await admin.listTopics());
    const asked = topics.filter((t) => existing.has(t));
    const out = new Map<string, number>();
    if (asked.length === 0) return out;
    const meta = await admin.metadata({ topics: asked });
    for (const [name, t] of meta.topics) out.set(name, t.partitionsCount);
    return out;
  } catch (err) {
    throw kafkaError(err);
  } finally {
    await admin.close();
  }
}
