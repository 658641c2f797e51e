/**
 * Avro change events (Debezium through a schema registry's converter) → the same ChangeEvent as
 * the JSON path. The writer schema comes from the registry (looked up by the id in the record's
 * framing, see avro-framing.ts); the datum is read with avsc, then handed to the JSON decoder as
 * `{schema, payload}` with the Avro schema translated to the Kafka Connect schema it was made
 * from (`connect.name`, `connect.parameters`). So Debezium's logical types (Date,
 * MicroTimestamp, ZonedTimestamp, Decimal as bytes with its scale, …) go through the very code
 * the JSON path uses, and give the same keys.
 */
import avro from 'avsc';
import { SyncError, errorMessage } from '../core/errors';
import { avroFrame, schemaRefKey, type AvroFrame, type SchemaRef } from './avro-framing';
import { decodeEnvelope } from './decode';
import { decodeFlattened, isFlattened } from './flattened';
import type { DecodedRecord, RawRecord, Row } from './types';
import { decodeRow, type ConnectSchema } from './values';

/** A parsed writer schema: how to read the datum and what Connect schema it stands for. */
export interface WriterSchema {
  readonly type: avro.Type;
  readonly connect: ConnectSchema;
}

/** Fetches what a batch needs (retryable REGISTRY_UNAVAILABLE), then looks up synchronously. */
export interface SchemaSource extends WriterSchemas {
  prepare(records: readonly RawRecord[]): Promise<void>;
}

/** Synchronous lookup of schemas fetched beforehand (src/registry/ fills it). */
export interface WriterSchemas {
  /** The schema, undefined when not fetched yet; throws when the registry's text is unusable. */
  get(ref: SchemaRef): WriterSchema | undefined;
}

/**
 * avro `long` as a JS number when exact, else a bigint: the JSON path gives the same
 * (JSON.parse, or the BigInt-preserving parse beyond 2^53).
 */
const exactLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => {
    const n = buf.readBigInt64LE(0);
    const asNumber = Number(n);
    return Number.isSafeInteger(asNumber) ? asNumber : n;
  },
  toBuffer: (n: number | bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: (n: number | bigint) => n,
  toJSON: (n: number | bigint) => (typeof n === 'bigint' ? Number(n) : n),
  isValid: (n: unknown) => typeof n === 'bigint' || (typeof n === 'number' && Number.isInteger(n)),
  compare: (a: number | bigint, b: number | bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

/** Parses the registry's schema text; throws ENVELOPE_MALFORMED when avsc refuses it. */
export function parseWriterSchema(text: string): WriterSchema {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text; // a bare primitive name such as "string"
  }
  try {
    const type = avro.Type.forSchema(json as avro.Schema, {
      // `long` in every spelling ("long" and {"type": "long", "connect.name": …})
      typeHook: (s: avro.Schema) =>
        s === 'long' || (isObject(s) && s.type === 'long' && s.logicalType === undefined)
          ? exactLong
          : undefined,
      wrapUnions: false,
    });
    return { type, connect: toConnect(json) };
  } catch (err) {
    throw new SyncError('ENVELOPE_MALFORMED', `unusable Avro schema: ${errorMessage(err)}`);
  }
}

export function decodeAvroRecord(
  record: RawRecord,
  schemas: WriterSchemas | undefined,
): DecodedRecord | undefined {
  const frame = avroFrame(record, 'value');
  if (!frame) return undefined;
  const payload = decodeDatum(frame, schemas, 'value');
  if (payload.value === null) return { kind: 'tombstone' };
  const json = { schema: payload.connect, payload: payload.value };
  // A flattened row (ExtractNewRecordState) is told from an envelope as on the JSON path.
  if (isFlattened(json)) return { kind: 'change', event: decodeFlattened(json) };
  return { kind: 'change', event: decodeEnvelope(json) };
}

/**
 * The primary-key row of a registry-framed Avro key, or undefined when the key is not Avro
 * (the JSON path reads it). Throws like a value would: no registry, schema missing, bad bytes.
 */
export function decodeAvroKey(
  record: RawRecord,
  schemas: WriterSchemas | undefined,
): Row | null | undefined {
  const frame = avroFrame(record, 'key');
  if (!frame) return undefined;
  const key = decodeDatum(frame, schemas, 'key');
  return isObject(key.value) ? Object.freeze(decodeRow(key.value, key.connect)) : null;
}

/** Decodes one framed key or value to JSON-path form (bytes as base64, longs exact). */
export function decodeDatum(
  frame: AvroFrame,
  schemas: WriterSchemas | undefined,
  part: 'key' | 'value',
): { value: unknown; connect: ConnectSchema } {
  const where = `${part} (${frame.framing} framing, schema ${schemaRefKey(frame.ref)})`;
  if (!schemas) {
    throw new SyncError(
      'ENVELOPE_MALFORMED',
      `${where} is Avro but no schema registry is configured (SCHEMA_REGISTRY_URL)`,
    );
  }
  const schema = schemas.get(frame.ref);
  if (!schema) {
    // the registry client fetches before decoding; reaching here means it could not
    throw new SyncError('REGISTRY_UNAVAILABLE', `${where}: writer schema not available`, {
      retryable: true,
    });
  }
  let datum: unknown;
  try {
    datum = schema.type.fromBuffer(frame.body);
  } catch (err) {
    throw new SyncError(
      'ENVELOPE_MALFORMED',
      `${where} does not decode with its writer schema: ${errorMessage(err)}`,
      { details: { schema: schemaRefKey(frame.ref) } },
    );
  }
  return { value: jsonForm(datum), connect: schema.connect };
}

/** avsc's decoded datum in the form the JSON converter would have written. */
function jsonForm(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v.toString('base64');
  if (Array.isArray(v)) return v.map(jsonForm);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = jsonForm(x);
    return out;
  }
  return v;
}

type AvroJson = Record<string, unknown>;

function isObject(v: unknown): v is AvroJson {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The Kafka Connect schema an Avro schema was generated from (AvroData's annotations). Named
 * types defined once and referenced later by name (`["null", "Value"]` for `after`) resolve.
 */
export function toConnect(
  schema: unknown,
  field?: string,
  names: Map<string, ConnectSchema> = new Map(),
  namespace = '',
): ConnectSchema {
  const withField = (s: ConnectSchema): ConnectSchema =>
    field === undefined ? s : { ...s, field };
  if (typeof schema === 'string') {
    const ref = names.get(schema) ?? names.get(namespace ? `${namespace}.${schema}` : schema);
    return withField(ref ?? { type: schema });
  }
  if (Array.isArray(schema)) {
    const branches = schema.filter((b) => b !== 'null');
    const inner =
      branches.length === 1
        ? toConnect(branches[0], undefined, names, namespace)
        : { type: 'union' };
    return withField({ ...inner, optional: branches.length < schema.length });
  }
  if (schema === null || typeof schema !== 'object') return withField({});
  const s = schema as AvroJson;
  if (s.type === 'record') {
    const name = String(s.name ?? '');
    const ns = name.includes('.')
      ? name.slice(0, name.lastIndexOf('.'))
      : typeof s.namespace === 'string'
        ? s.namespace
        : namespace;
    const fields: ConnectSchema[] = [];
    const record: ConnectSchema = { type: 'struct', ...named(s), fields };
    const short = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : name;
    names.set(ns ? `${ns}.${short}` : short, record);
    if (!names.has(short)) names.set(short, record);
    for (const f of Array.isArray(s.fields) ? (s.fields as AvroJson[]) : []) {
      fields.push(toConnect(f.type, String(f.name), names, ns));
    }
    return withField(record);
  }
  if (typeof s.type === 'object') return toConnect(s.type, field, names, namespace);
  return withField({ type: String(s.type), ...named(s) });
}

function named(s: AvroJson): Pick<ConnectSchema, 'name' | 'parameters'> {
  const params = s['connect.parameters'];
  const parameters =
    params && typeof params === 'object' ? { ...(params as Record<string, string>) } : undefined;
  let name = typeof s['connect.name'] === 'string' ? (s['connect.name'] as string) : undefined;
  // plain Avro logical types, when no Connect name was recorded
  if (name === undefined) {
    if (s.logicalType === 'decimal') name = 'org.apache.kafka.connect.data.Decimal';
    else if (s.logicalType === 'date') name = 'org.apache.kafka.connect.data.Date';
    else if (s.logicalType === 'timestamp-millis') name = 'org.apache.kafka.connect.data.Timestamp';
    else if (s.logicalType === 'timestamp-micros') name = 'io.debezium.time.MicroTimestamp';
  }
  const scale = parameters?.scale ?? (typeof s.scale === 'number' ? String(s.scale) : undefined);
  const merged = scale === undefined ? parameters : { ...(parameters ?? {}), scale };
  return {
    ...(name === undefined ? {} : { name }),
    ...(merged === undefined ? {} : { parameters: merged }),
  };
}
