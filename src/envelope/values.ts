/**
 * Turns Debezium's column encodings into plain values, guided by the Connect schema that the
 * JSON converter sends with each event (when `schemas.enable` is on). Without a schema the
 * values stay as they came (numbers, strings): rules then see e.g. a DATE as days since epoch.
 *
 * Output forms: DATE → 'YYYY-MM-DD'; DATETIME (no zone) → 'YYYY-MM-DDTHH:MM:SS.ffffff' without
 * an offset; TIMESTAMP → Debezium's ISO-8601 UTC string as is; DECIMAL → exact decimal string.
 */

/** The subset of a Kafka Connect schema we read. */
export interface ConnectSchema {
  readonly type?: string;
  readonly name?: string;
  readonly field?: string;
  readonly optional?: boolean;
  readonly parameters?: Readonly<Record<string, string>>;
  readonly fields?: readonly ConnectSchema[];
}

const DAY_MS = 86_400_000;

export function decodeRow(
  row: Record<string, unknown>,
  schema: ConnectSchema | undefined,
): Record<string, unknown> {
  const fields = schema ? convertedFields(schema) : [];
  if (fields.length === 0) return row; // nothing to convert: no copy
  const out: Record<string, unknown> = { ...row };
  for (const field of fields) {
    if (field.field !== undefined && field.field in row) {
      out[field.field] = decodeValue(row[field.field], field);
    }
  }
  return out;
}

/** Per row schema (parsed once per topic, see wrapper-cache.ts): the fields to convert. */
const convertedBySchema = new WeakMap<ConnectSchema, readonly ConnectSchema[]>();

function convertedFields(schema: ConnectSchema): readonly ConnectSchema[] {
  let fields = convertedBySchema.get(schema);
  if (!fields) {
    fields = (schema.fields ?? []).filter((f) => f.name !== undefined && CONVERTERS.has(f.name));
    convertedBySchema.set(schema, fields);
  }
  return fields;
}

export function decodeValue(value: unknown, schema: ConnectSchema): unknown {
  if (value === null || value === undefined) return value;
  const convert = schema.name === undefined ? undefined : CONVERTERS.get(schema.name);
  return convert ? convert(value, schema) : value;
}

type Converter = (value: unknown, schema: ConnectSchema) => unknown;

const date: Converter = (v) => (typeof v === 'number' ? isoDate(v * DAY_MS) : v);
const millis: Converter = (v) => (isInteger(v) ? wallClock(BigInt(v) * 1000n) : v);

/** Connect logical types (by schema name) that are converted; the rest pass as they came. */
const CONVERTERS: ReadonlyMap<string, Converter> = new Map([
  ['io.debezium.time.Date', date],
  ['org.apache.kafka.connect.data.Date', date],
  ['io.debezium.time.Timestamp', millis],
  ['org.apache.kafka.connect.data.Timestamp', millis],
  ['io.debezium.time.MicroTimestamp', (v) => (isInteger(v) ? wallClock(BigInt(v)) : v)],
  ['io.debezium.time.NanoTimestamp', (v) => (isInteger(v) ? wallClock(BigInt(v) / 1000n) : v)],
  [
    'org.apache.kafka.connect.data.Decimal',
    (v, schema) =>
      typeof v === 'string' ? decimalFromBase64(v, Number(schema.parameters?.scale ?? 0)) : v,
  ],
  [
    'io.debezium.data.VariableScaleDecimal',
    (v) => {
      const d = v as { scale?: number; value?: string };
      return typeof d.value === 'string' ? decimalFromBase64(d.value, d.scale ?? 0) : v;
    },
  ],
]);

/** Whole numbers arrive as number, or as bigint from the exact parse of 16+ digit values. */
function isInteger(value: unknown): value is number | bigint {
  return typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value));
}

function isoDate(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

/** Wall-clock text of microseconds since epoch, read as UTC because Debezium encoded it so. */
function wallClock(epochMicros: bigint): string {
  let seconds = epochMicros / 1_000_000n;
  let micros = epochMicros % 1_000_000n;
  if (micros < 0n) {
    micros += 1_000_000n;
    seconds -= 1n;
  }
  const text = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${text}.${micros.toString().padStart(6, '0')}`;
}

/** Precise-mode DECIMAL: base64 of the big-endian two's-complement unscaled value. */
export function decimalFromBase64(b64: string, scale: number): string {
  const bytes = Buffer.from(b64, 'base64');
  let unscaled = 0n;
  for (const b of bytes) unscaled = (unscaled << 8n) | BigInt(b);
  if (bytes.length > 0 && (bytes[0] as number) & 0x80) unscaled -= 1n << BigInt(bytes.length * 8);
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const frac = scale > 0 ? `.${digits.slice(digits.length - scale)}` : '';
  return `${negative ? '-' : ''}${whole}${frac}`;
}
