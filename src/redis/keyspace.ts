/** Deletion primitives shared by the executor and the scheduled jobs. */
import type { RedisPort } from './port';

export interface Chunking {
  readonly scanCount: number;
  readonly unlinkBatch: number;
}

/** UNLINK in chunks of at most `unlinkBatch` keys; resolves to the count removed. */
export async function unlinkAll(
  port: RedisPort,
  keys: readonly string[],
  chunking: Chunking,
): Promise<number> {
  let removed = 0;
  for (let i = 0; i < keys.length; i += chunking.unlinkBatch) {
    removed += await port.unlink(keys.slice(i, i + chunking.unlinkBatch));
  }
  return removed;
}

/** SCAN every node of the keyspace for the glob (never KEYS) and UNLINK what matches. */
export async function deleteMatching(
  port: RedisPort,
  pattern: string,
  chunking: Chunking,
): Promise<number> {
  let removed = 0;
  for (const node of port.scanNodes()) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, pattern, chunking.scanCount);
      cursor = next;
      if (found.length > 0) removed += await unlinkAll(port, found, chunking);
    } while (cursor !== '0');
  }
  return removed;
}
