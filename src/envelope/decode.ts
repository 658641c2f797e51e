/**
 * Kafka record → change event. Accepts the JSON converter's `{schema, payload}` form and the
 * bare payload (`schemas.enable=false`). A null value is a tombstone. Anything else that is not
 * a Debezium change envelope is rejected with ENVELOPE_MALFORMED naming what is wrong.
 */
import JSONbig from 'json-bigint';
import { SyncError } from '../core/errors';
import type { Mutable } from '../core/mutable';
import { decodeFlattened, isFlattened } from './flattened';
import { transactionRef } from './transaction';
import type { ChangeEvent, DecodedRecord, Op, RawRecord, Row, SourceInfo } from './types';
import { decodeRow, type ConnectSchema } from './values';
import { WrapperCache } from './wrapper-cache';

const OPS: ReadonlySet<string> = new Set(['c', 'u', 'd', 'r', 't']);

const bigJson = JSONbig({ useNativeBigInt: true });

/**
 * JSON.parse, then, only when a row image holds an integer beyond 2^53 (a BIGINT whose digits
 * JSON.parse rounded), a BigInt-preserving parse of the same text. Envelope fields such as
 * `ts_us`/`ts_ns` are large too but never used as key values, so they do not trigger it.
 */
export function parseJson(text: string): unknown {
  const json: unknown = JSON.parse(text);
  return imagesHaveUnsafeInteger(json) ? bigJson.parse(text) : json;
}

function imagesHaveUnsafeInteger(json: unknown): boolean {
  if (!isObject(json)) return false;
  const payload = isObject(json.payload) ? json.payload : json;
  // A flattened row (no envelope) is itself the image.
  if (!('before' in payload) && !('after' in payload)) {
    return !('op' in payload) && hasUnsafeInteger(payload);
  }
  return hasUnsafeInteger(payload.before) || hasUnsafeInteger(payload.after);
}

/** Loops without allocating: it runs on every event. */
function hasUnsafeInteger(row: unknown): boolean {
  if (!isObject(row)) return false;
  for (const k in row) {
    const v = row[k];
    if (typeof v === 'number' && !Number.isSafeInteger(v) && Number.isInteger(v)) return true;
  }
  return false;
}

/** Schema wrappers seen last per topic (see wrapper-cache.ts): their schema is parsed once. */
const wrappers = new WrapperCache();

export function decodeRecord(record: RawRecord): DecodedRecord {
  const { value } = record;
  if (value === null || value.length === 0) return { kind: 'tombstone' };
  const json = parseWithKnownWrapper(record.topic, value) ?? parseValue(record.topic, value);
  if (json === null) return { kind: 'tombstone' };
  // The JSON converter with schemas keeps the value schema of a tombstone the unwrap SMT made.
  if (isObject(json) && 'schema' in json && json.payload === null) return { kind: 'tombstone' };
  // A flattened row (ExtractNewRecordState) is detected per record: nothing to configure.
  if (isObject(json) && isFlattened(json)) return { kind: 'change', event: decodeFlattened(json) };
  return { kind: 'change', event: decodeEnvelope(json) };
}

/** The full parse; a `{schema, payload}` wrapper is remembered for the topic's next values. */
function parseValue(topic: string, value: Buffer): unknown {
  let json: unknown;
  try {
    json = parseJson(value.toString('utf8'));
  } catch (err) {
    throw malformed(`value is not JSON (${clip((err as Error).message, 120)})`);
  }
  if (isObject(json) && 'schema' in json && 'payload' in json)
    wrappers.learn(topic, value, json.schema);
  return json;
}

/** `{schema, payload}` parsing only the payload, when the wrapper is the topic's known one. */
function parseWithKnownWrapper(topic: string, value: Buffer): unknown {
  const hit = wrappers.lookup(topic, value);
  if (!hit) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(hit.payloadText);
  } catch {
    return undefined; // not the plain wrapper after all: the full parse decides
  }
  const json = { schema: hit.schema, payload };
  // The same BigInt rule as parseJson, on the payload alone.
  if (imagesHaveUnsafeInteger(json)) json.payload = bigJson.parse(hit.payloadText);
  return json;
}

/** Decodes an already parsed envelope (with or without the schema wrapper). */
export function decodeEnvelope(json: unknown): ChangeEvent {
  if (!isObject(json)) throw malformed('value is not a JSON object');
  // `{schema, payload}`, or `{payload}` alone (a schema-less wrapper); else the bare envelope
  const wrapped = 'payload' in json && ('schema' in json || !('op' in json));
  const payload = wrapped ? json.payload : json;
  if (!isObject(payload)) throw malformed('payload is not an object');
  const schema = wrapped && isObject(json.schema) ? (json.schema as ConnectSchema) : undefined;

  const op = payload.op;
  if (typeof op !== 'string' || !OPS.has(op)) {
    throw malformed(`op is ${clip(JSON.stringify(op))}, expected one of c, u, d, r, t`);
  }
  const before = image(payload, 'before', schema);
  const after = image(payload, 'after', schema);
  requireImages(op as Op, before, after);
  const source = isObject(payload.source) ? sourceInfo(payload.source) : {};
  const tsMs = typeof payload.ts_ms === 'number' ? payload.ts_ms : undefined;
  const transaction = transactionRef(payload.transaction);
  // Only the fields present; set one by one (spreads of optional parts allocate per event).
  const event: Mutable<ChangeEvent> = { op: op as Op, before, after, source };
  if (tsMs !== undefined) event.tsMs = tsMs;
  if (transaction) event.transaction = transaction;
  return event;
}

function image(
  payload: Record<string, unknown>,
  name: 'before' | 'after',
  schema?: ConnectSchema,
): Row | null {
  const value = payload[name];
  if (value === undefined || value === null) return null;
  if (!isObject(value)) throw malformed(`${name} is not an object`);
  return Object.freeze(decodeRow(value, schema && imageSchema(schema, name)));
}

/** The schemas of `before` and `after` per envelope schema (one object per topic: cached). */
const imageSchemas = new WeakMap<ConnectSchema, Partial<Record<string, ConnectSchema>>>();

function imageSchema(schema: ConnectSchema, name: 'before' | 'after'): ConnectSchema | undefined {
  let byName = imageSchemas.get(schema);
  if (!byName) {
    byName = {
      before: schema.fields?.find((f) => f.field === 'before'),
      after: schema.fields?.find((f) => f.field === 'after'),
    };
    imageSchemas.set(schema, byName);
  }
  return byName[name];
}

/** Images each op must carry: [before, after]. */
const NEEDS: Readonly<Record<Op, readonly [boolean, boolean]>> = {
  c: [false, true],
  r: [false, true],
  u: [false, true],
  d: [true, false],
  t: [false, false],
};

function requireImages(op: Op, before: Row | null, after: Row | null): void {
  const [needBefore, needAfter] = NEEDS[op];
  if (needBefore && !before) throw malformed(`op "${op}" without a before image`);
  if (needAfter && !after) throw malformed(`op "${op}" without an after image`);
}

function sourceInfo(s: Record<string, unknown>): SourceInfo {
  // Only the fields present (no `delete` afterwards: it turns the object into a slow dictionary).
  const info: Mutable<SourceInfo> = {};
  if (typeof s.connector === 'string') info.connector = s.connector;
  if (typeof s.db === 'string') info.db = s.db;
  if (typeof s.table === 'string') info.table = s.table;
  if (typeof s.ts_ms === 'number') info.tsMs = s.ts_ms;
  if (typeof s.snapshot === 'boolean') info.snapshot = String(s.snapshot);
  else if (typeof s.snapshot === 'string') info.snapshot = s.snapshot;
  if (typeof s.file === 'string') info.file = s.file;
  if (typeof s.pos === 'number') info.pos = s.pos;
  if (typeof s.row === 'number') info.row = s.row;
  if (typeof s.gtid === 'string') info.gtid = s.gtid;
  return info;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Keeps error messages short whatever the input held. */
function clip(text: string | undefined, max = 60): string {
  if (text === undefined) return 'undefined';
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function malformed(message: string): SyncError {
  return new SyncError('ENVELOPE_MALFORMED', message);
}
