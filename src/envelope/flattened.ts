/**
 * Flattened records: Debezium's `ExtractNewRecordState` ("unwrap") SMT replaces the envelope by
 * the plain row. Optional fields it adds (`add.fields`): `__op`, `__table`, `__db`,
 * `__source_ts_ms`, `__source_file`, `__source_pos`, `__source_snapshot`, `__transaction_*`; `__deleted`
 * (`delete.handling.mode=rewrite`, `delete.tombstone.handling.mode=rewrite…`) marks a delete
 * that kept the last row. Deletes in drop / tombstone mode arrive as a tombstone only (null
 * value), handled by the row index (src/row-index/resolve.ts). The row carries no before image, so
 * the event is marked `flattened`: the resolve step takes the old key columns from the index.
 */
import { SyncError } from '../core/errors';
import { flattenedTransactionRef } from './transaction';
import type { ChangeEvent, Op, Row, SourceInfo } from './types';
import { decodeRow, type ConnectSchema } from './values';
import { WrapperCache } from './wrapper-cache';

/**
 * Whether a parsed value (with or without the `{schema, payload}` wrapper) is a flattened row
 * rather than a Debezium envelope: no envelope field (`op`, `before`, `after`, `source`) at the
 * top, or a Connect schema that does not end in `.Envelope` while the payload has no `op`.
 */
/**
 * `{schema, payload}`, or `{payload}` alone (the schema-less wrapper some tools write): the
 * value's content is in `payload`. A row whose only column is named `payload` cannot be told
 * apart and is read as a wrapper.
 */
function isWrapper(json: Record<string, unknown>): boolean {
  return (
    'payload' in json &&
    ('schema' in json || (Object.keys(json).length === 1 && isObject(json.payload)))
  );
}

export function isFlattened(json: Record<string, unknown>): boolean {
  const wrapped = isWrapper(json);
  const payload = wrapped ? json.payload : json;
  if (!isObject(payload)) return false;
  for (const field of ['op', 'before', 'after', 'source']) if (field in payload) return false;
  return Object.keys(payload).length > 0;
}

const OPS: ReadonlySet<string> = new Set(['c', 'u', 'd', 'r']);
/** `__source_snapshot` values of rows read by a snapshot (without `__op`: op r). */
const SNAPSHOT_ROWS: ReadonlySet<string> = new Set([
  'true',
  'first',
  'first_in_data_collection',
  'last_in_data_collection',
  'last',
]);

/** Decodes a flattened row into the change event the rules take. */
export function decodeFlattened(json: Record<string, unknown>): ChangeEvent {
  const wrapped = isWrapper(json);
  const payload = (wrapped ? json.payload : json) as Record<string, unknown>;
  const schema = wrapped && isObject(json.schema) ? (json.schema as ConnectSchema) : undefined;
  const row: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(payload)) if (!k.startsWith('__')) row[k] = v;
  if (Object.keys(row).length === 0) {
    throw new SyncError('ENVELOPE_MALFORMED', 'flattened record without any column');
  }
  const image = Object.freeze(decodeRow(row, schema));
  const deleted = payload.__deleted === true || payload.__deleted === 'true';
  const rawOp = payload.__op;
  if (rawOp !== undefined && (typeof rawOp !== 'string' || !OPS.has(rawOp))) {
    throw new SyncError(
      'ENVELOPE_MALFORMED',
      `flattened record: __op is ${JSON.stringify(rawOp)}, expected one of c, u, d, r`,
    );
  }
  // Without __op a row may be a create, an update or a snapshot read: a snapshot read when
  // `__source_snapshot` says so, else an update (its old keys come from the row index).
  const source = sourceOf(payload);
  const transaction = flattenedTransactionRef(payload);
  const tx = transaction ? { transaction } : {};
  const snapshotRead = source.snapshot !== undefined && SNAPSHOT_ROWS.has(source.snapshot);
  const op: Op = deleted ? 'd' : ((rawOp as Op | undefined) ?? (snapshotRead ? 'r' : 'u'));
  return op === 'd'
    ? { op, before: image, after: null, source, flattened: true, ...tx }
    : { op, before: null, after: image, source, flattened: true, ...tx };
}

function sourceOf(p: Record<string, unknown>): SourceInfo {
  const info: Record<string, unknown> = {};
  const str = (k: string) => (typeof p[k] === 'string' ? (p[k] as string) : undefined);
  const num = (k: string) => {
    const v = p[k];
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
    return undefined;
  };
  info.table = str('__table');
  info.db = str('__db');
  info.tsMs = num('__source_ts_ms');
  info.file = str('__source_file');
  info.pos = num('__source_pos');
  const snap = p.__source_snapshot;
  info.snapshot = typeof snap === 'boolean' ? String(snap) : str('__source_snapshot');
  for (const k of Object.keys(info)) if (info[k] === undefined) delete info[k];
  return info as SourceInfo;
}

/** Key schema wrappers seen last per topic: a known one is not parsed again (wrapper-cache.ts). */
const keyWrappers = new WrapperCache();

/**
 * The primary-key row of a Kafka record key (`{schema, payload}` or bare), or null. With the
 * record's topic, the topic's last key schema is reused when the key carries the same one.
 */
export function decodeKey(key: Buffer | null, topic?: string): Row | null {
  if (key === null || key.length === 0) return null;
  const hit = topic === undefined ? undefined : keyWrappers.lookup(topic, key);
  let json: unknown;
  try {
    json = hit
      ? { schema: hit.schema, payload: JSON.parse(hit.payloadText) as unknown }
      : JSON.parse(key.toString('utf8'));
  } catch {
    if (!hit) return null;
    json = parseOrNull(key); // not the plain wrapper after all: the full parse decides
  }
  if (!isObject(json)) return null;
  if (!hit && topic !== undefined && 'schema' in json && 'payload' in json)
    keyWrappers.learn(topic, key, json.schema);
  const wrapped = 'payload' in json && 'schema' in json;
  const payload = wrapped ? json.payload : json;
  if (!isObject(payload)) return null;
  const schema = wrapped && isObject(json.schema) ? (json.schema as ConnectSchema) : undefined;
  return Object.freeze(decodeRow(payload, schema));
}

function parseOrNull(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
