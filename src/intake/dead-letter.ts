/**
 * The dead-letter topic: events that cannot be handled are copied there with their original key,
 * value and headers, plus headers naming the error and where the event came from, so nothing is
 * silently lost and the partition still moves on. A send must succeed before the batch's offsets
 * are committed; a failure is retryable (the batch waits, like for Redis). A batch's copies go in
 * produce requests of at most SEND_BYTES: the broker refuses larger ones (1 MiB by default), and a
 * batch may hold more than that (MCS_FETCH_BYTES_PER_PARTITION). A copy the broker still refuses
 * as too large (the topic's own `max.message.bytes` may be lower) would be refused for ever, so it
 * goes as a reference copy instead: no value, the headers naming the error and the place, and
 * `mcs.value.dropped` (its size); `replay` re-reads the original from there.
 */
import { SyncError, errorMessage } from '../core/errors';
import type { Rejected } from './batch-plan';
import type { OutgoingRecord, RecordProducer } from './client';
import { slicesOf } from './slices';

export const DLQ_HEADERS = {
  code: 'mcs.error.code',
  message: 'mcs.error.message',
  topic: 'mcs.original.topic',
  partition: 'mcs.original.partition',
  offset: 'mcs.original.offset',
  timestamp: 'mcs.original.timestamp',
  table: 'mcs.original.table',
  dropped: 'mcs.value.dropped',
} as const;

/** Most bytes of keys, values and headers per produce request (under the broker's 1 MiB). */
export const SEND_BYTES = 768 * 1024;

export class DeadLetterQueue {
  constructor(
    private readonly producer: RecordProducer,
    readonly topic: string,
  ) {}

  async send(rejected: readonly Rejected[]): Promise<void> {
    if (rejected.length === 0) return;
    const messages = rejected.map(({ record, error, place, table }) => {
      // An oversized value would be refused by the broker too: keep the headers, drop the value.
      const tooLarge = error.code === 'MESSAGE_TOO_LARGE';
      const headers: Record<string, string | Buffer> = {};
      for (const [k, v] of Object.entries(record.headers ?? {})) {
        if (typeof v === 'string' || Buffer.isBuffer(v)) headers[k] = v;
      }
      Object.assign(headers, {
        [DLQ_HEADERS.code]: error.code,
        [DLQ_HEADERS.message]: error.message.slice(0, 1000),
        [DLQ_HEADERS.topic]: place.topic,
        [DLQ_HEADERS.partition]: String(place.partition),
        [DLQ_HEADERS.offset]: place.offset,
        ...(record.timestamp ? { [DLQ_HEADERS.timestamp]: record.timestamp } : {}),
        ...(table ? { [DLQ_HEADERS.table]: table } : {}),
        ...(tooLarge ? { [DLQ_HEADERS.dropped]: String(record.value?.length ?? 0) } : {}),
      });
      return { key: record.key, value: tooLarge ? null : record.value, headers };
    });
    for (const chunk of bySize(messages, SEND_BYTES)) await this.sendChunk(chunk);
  }

  private async sendChunk(chunk: OutgoingRecord[]): Promise<void> {
    try {
      await this.producer.send(this.topic, chunk);
      return;
    } catch (err) {
      if (!refusedAsTooLarge(err)) throw this.unavailable(err);
    }
    // One at a time: only the copies refused themselves become references.
    for (const m of chunk) {
      try {
        await this.producer.send(this.topic, [m]);
      } catch (err) {
        if (!refusedAsTooLarge(err)) throw this.unavailable(err);
        await this.producer.send(this.topic, [referenceCopy(m)]).catch((e: unknown) => {
          throw this.unavailable(e);
        });
      }
    }
  }

  private unavailable(err: unknown): SyncError {
    return new SyncError(
      'KAFKA_UNAVAILABLE',
      `dead-letter topic ${this.topic}: ${errorMessage(err)}`,
      { retryable: true, cause: err },
    );
  }
}

/** The broker's refusal of a record over its size limit (both clients' wording). */
export function refusedAsTooLarge(err: unknown): boolean {
  const type = (err as { type?: unknown }).type;
  if (type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE') return true;
  return /larger than the max message size|MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE/i.test(
    errorMessage(err),
  );
}

/** The copy without its value and original headers: only what names the event and the error. */
function referenceCopy(m: OutgoingRecord): OutgoingRecord {
  const ours = new Set<string>(Object.values(DLQ_HEADERS));
  const headers: Record<string, string | Buffer> = {};
  for (const [k, v] of Object.entries(m.headers)) if (ours.has(k)) headers[k] = v;
  headers[DLQ_HEADERS.dropped] ??= String(m.value?.length ?? 0);
  return { key: m.key && m.key.length <= 1024 ? m.key : null, value: null, headers };
}

/** Consecutive produce requests of at most `max` bytes of keys, values and headers, in order. */
export function bySize(messages: readonly OutgoingRecord[], max: number): OutgoingRecord[][] {
  return slicesOf(messages, max, (m) => {
    let size = (m.key?.length ?? 0) + (m.value?.length ?? 0);
    for (const [k, v] of Object.entries(m.headers)) size += k.length + v.length;
    return size;
  });
}
