/** The library's message stream and messages, as the consumer reads and hands them over. */
import type { Message, MessagesStream } from '@platformatic/kafka';
import type { RawRecord } from '../../envelope/types';
import { slicesOf } from '../slices';

export type Stream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;
export type Msg = Message<Buffer, Buffer, Buffer, Buffer>;

/**
 * Consecutive slices of at most `max` value bytes: a batch's rejected records go to the
 * dead-letter topic, whose produce requests the broker caps (1 MiB by default).
 */
export function byBytes(messages: Msg[], max: number): Msg[][] {
  return slicesOf(messages, max, (m) => (m.value?.length ?? 0) + (m.key?.length ?? 0));
}

export function drain(stream: Stream): Msg[] {
  const out: Msg[] = [];
  for (let m = stream.read() as Msg | null; m !== null; m = stream.read() as Msg | null)
    out.push(m);
  return out;
}

export function generationOf(m: Msg): number | undefined {
  const consumer = m.metadata.consumer as { generationId?: number } | undefined;
  return consumer?.generationId;
}

export function toRawRecord(m: Msg): RawRecord {
  const headers: Record<string, Buffer> = {};
  for (const [k, v] of m.headers)
    if (k !== undefined) headers[k.toString('utf8')] = v ?? Buffer.alloc(0);
  return {
    topic: m.topic,
    partition: m.partition,
    offset: m.offset.toString(),
    key: m.key ?? null,
    value: m.value ?? null,
    timestamp: m.timestamp.toString(),
    headers,
  };
}
