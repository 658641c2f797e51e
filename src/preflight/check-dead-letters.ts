/** The `check` line of the dead letters pending (src/intake/dead-letters-pending.ts). */
import type { Kafka } from 'kafkajs';
import type { Config } from '../config/config';
import { errorMessage } from '../core/errors';
import { pendingDeadLetters } from '../intake/dead-letters-pending';
import { withTimeout, type CheckLine } from './check-line';

/** ✓ none pending; ! some (events whose keys may rely on a fallback or a redrive). */
export async function deadLettersLine(kafka: Kafka, config: Config): Promise<CheckLine> {
  const topic = config.kafka.deadLetterTopic;
  const name = `dead letters pending on ${topic}`;
  if (config.kafka.poisonPolicy !== 'dead-letter')
    return { ok: true, name, detail: `MCS_POISON_POLICY=${config.kafka.poisonPolicy}: none kept` };
  try {
    const p = await withTimeout(pendingDeadLetters(kafka, config), 15_000, 'dead letters');
    if (p.total === 0) return { ok: true, name, detail: '0 (none, or all redriven)' };
    const where = p.partitions
      .filter((x) => x.pending > 0)
      .map((x) => `${topic}/${x.partition}: ${x.pending}`)
      .join(', ');
    return {
      ok: 'warn',
      name,
      detail: `${p.total} not yet redriven (${where})`,
      fix: 'mis-cache-sync dead-letters list, fix the cause, then mis-cache-sync dead-letters redrive',
    };
  } catch (err) {
    return { ok: 'warn', name, detail: `not counted: ${errorMessage(err)}` };
  }
}
