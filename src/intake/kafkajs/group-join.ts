import type { Consumer } from 'kafkajs';

/**
 * Resolves at the consumer's next group join. Listen before `connect()`: `run()` returns before
 * the join, and the join can come before a listener added after it.
 */
export function nextGroupJoin(consumer: Consumer): Promise<void> {
  return new Promise<void>((resolve) => {
    const off = consumer.on(consumer.events.GROUP_JOIN, () => {
      off();
      resolve();
    });
  });
}
