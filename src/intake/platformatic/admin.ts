/** Topic creation on @platformatic/kafka's admin client. */
import { Admin } from '@platformatic/kafka';
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
