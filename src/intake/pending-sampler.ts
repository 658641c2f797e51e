/**
 * The dead letters pending, for the gauge: a scrape reads the last count at once and starts a
 * new count when that one is older than `maxAgeMs` (a count is a few admin requests: scrapes
 * must neither wait for Kafka nor send them each time). A failed count leaves the gauge absent
 * rather than showing an old figure as current.
 */
import type { Kafka } from 'kafkajs';
import type { Config } from '../config/config';
import { errorMessage } from '../core/errors';
import type { Logger } from '../telemetry/logger';
import { pendingDeadLetters } from './dead-letters-pending';

export function pendingSampler(
  deps: { readonly kafka: Kafka; readonly config: Config; readonly logger: Logger },
  maxAgeMs = 15_000,
  now: () => number = Date.now,
): () => Promise<number | undefined> {
  let value: number | undefined;
  let at = -Infinity;
  let running: Promise<void> | undefined;
  const refresh = () =>
    (running ??= pendingDeadLetters(deps.kafka, deps.config)
      .then((p) => {
        value = p.total;
      })
      .catch((err: unknown) => {
        value = undefined;
        deps.logger.warn({ error: errorMessage(err) }, 'dead letters pending: count failed');
      })
      .finally(() => {
        at = now();
        running = undefined;
      }));
  return async () => {
    if (at === -Infinity)
      await refresh(); // the first scrape waits for the first count
    else if (now() - at >= maxAgeMs) void refresh();
    return value;
  };
}
