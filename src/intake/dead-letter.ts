/**
 * The dead-letter topic: events that cannot be handled are copied there with their original key,
 * value and headers, plus headers naming the error and where the event came from, so nothing is
 * silently lost and the partition still moves on. A send must succeed before the batch's offsets
 * are committed; a failure is retryable (the batch waits, like for Redis). A batch's copies go in
 * produce requests of at most SEND_BYTES: the broker refuses larger ones (1 MiB by default), and a
 * batch may hold more than that (MCS_FETCH_BYTES_PER_PARTITION).
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
    try {
      for (const chunk of bySize(messages, SEND_BYTES)) await this.producer.send(this.topic, chunk);
    } catch (err) {
      throw new SyncError(
        'KAFKA_UNAVAILABLE',
        `dead-letter topic ${this.topic}: ${errorMessage(err)}`,
        {
          retryable: true,
          cause: err,
        },
      );
    }
  }
}

/** Consecutive produce requests of at most `max` bytes of keys, values and headers, in order. */
export function bySize(messages: readonly OutgoingRecord[], max: number): OutgoingRecord[][] {
  return slicesOf(messages, max, (m) => {
    let size = (m.key?.length ?? 0) + (m.value?.length ?? 0);
    for (const [k, v] of Object.entries(m.headers)) size += k.length + v.length;
    return size;
  });
}
