/**
 * Which registry schema a Kafka key or value was written with, read from its bytes (and headers):
 * - Confluent framing: byte 0 is 0, then a 4-byte big-endian schema id (what Apicurio's
 *   converter writes with `apicurio.registry.as-confluent=true`; the id is the one the
 *   registry's Confluent-compatible API serves under `/schemas/ids/{id}`);
 * - Apicurio framing: byte 0 is 0, then an 8-byte big-endian global id (Apicurio's default);
 * - Apicurio headers (`apicurio.registry.headers.enabled=true`): the id is in the record header
 *   `apicurio.{key|value}.globalId` (or `.contentId`) as an 8-byte big-endian long, and the
 *   bytes are the bare Avro datum.
 * The two magic-byte framings are told apart by the 4 bytes after the magic byte: a Confluent id
 * is never 0, while an 8-byte Apicurio id below 2^32 starts with four zero bytes.
 */
import type { RawRecord } from './types';

export type SchemaIdKind = 'confluent' | 'globalId' | 'contentId';

export interface SchemaRef {
  readonly kind: SchemaIdKind;
  readonly id: number;
}

export interface AvroFrame {
  readonly ref: SchemaRef;
  /** The Avro datum without the framing. */
  readonly body: Buffer;
  readonly framing: 'confluent' | 'apicurio' | 'apicurio-headers';
}

export function schemaRefKey(ref: SchemaRef): string {
  return `${ref.kind}:${ref.id}`;
}

/** Apicurio's id headers per part, in the order they are looked for (built once: a hot path). */
const ID_HEADERS = {
  key: [
    ['globalId', 'apicurio.key.globalId'],
    ['contentId', 'apicurio.key.contentId'],
  ],
  value: [
    ['globalId', 'apicurio.value.globalId'],
    ['contentId', 'apicurio.value.contentId'],
  ],
} as const satisfies Record<'key' | 'value', readonly (readonly [SchemaIdKind, string])[]>;

/** The frame of the value (or key), or undefined when the bytes are not registry-framed Avro. */
export function avroFrame(
  record: RawRecord,
  part: 'key' | 'value' = 'value',
): AvroFrame | undefined {
  const bytes = record[part];
  if (bytes === null || bytes.length === 0) return undefined;
  if (record.headers) {
    for (const [kind, name] of ID_HEADERS[part]) {
      const header = headerBytes(record, name);
      if (header && header.length === 8) {
        return {
          ref: { kind, id: Number(header.readBigUInt64BE(0)) },
          body: bytes,
          framing: 'apicurio-headers',
        };
      }
    }
  }
  if (bytes[0] !== 0 || bytes.length < 5) return undefined;
  const first = bytes.readUInt32BE(1);
  if (first === 0 && bytes.length >= 9) {
    return {
      ref: { kind: 'globalId', id: Number(bytes.readBigUInt64BE(1)) },
      body: bytes.subarray(9),
      framing: 'apicurio',
    };
  }
  return { ref: { kind: 'confluent', id: first }, body: bytes.subarray(5), framing: 'confluent' };
}

/** Every schema a batch of records needs (values, and keys that are framed too). */
export function schemaRefsOf(records: readonly RawRecord[]): SchemaRef[] {
  const refs = new Map<string, SchemaRef>();
  for (const record of records) {
    for (const part of ['value', 'key'] as const) {
      const frame = avroFrame(record, part);
      if (frame) refs.set(schemaRefKey(frame.ref), frame.ref);
    }
  }
  return [...refs.values()];
}

function headerBytes(record: RawRecord, name: string): Buffer | undefined {
  const h = record.headers?.[name];
  const v = Array.isArray(h) ? h[0] : h;
  return Buffer.isBuffer(v) ? v : undefined;
}
