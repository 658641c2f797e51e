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
