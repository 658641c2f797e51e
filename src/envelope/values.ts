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
  if (!schema?.fields) return row;
  const out: Record<string, unknown> = { ...row };
  for (const field of schema.fields) {
    if (field.field !== undefined && field.field in row) {
      out[field.field] = decodeValue(row[field.field], field);
    }
  }
  return out;
}

export function decodeValue(value: unknown, schema: ConnectSchema): unknown {
  if (value === null || value === undefined) return value;
  switch (schema.name) {
    case 'io.debezium.time.Date':
    case 'org.apache.kafka.connect.data.Date':
      return typeof value === 'number' ? isoDate(value * DAY_MS) : value;
    case 'io.debezium.time.Timestamp':
    case 'org.apache.kafka.connect.data.Timestamp':
      return isInteger(value) ? wallClock(BigInt(value) * 1000n) : value;
    case 'io.debezium.time.MicroTimestamp':
      return isInteger(value) ? wallClock(BigInt(value)) : value;
    case 'io.debezium.time.NanoTimestamp':
      return isInteger(value) ? wallClock(BigInt(value) / 1000n) : value;
    case 'org.apache.kafka.connect.data.Decimal':
      return typeof value === 'string'
        ? decimalFromBase64(value, Number(schema.parameters?.scale ?? 0))
        : value;
    case 'io.debezium.data.VariableScaleDecimal': {
      const v = value as { scale?: number; value?: string };
      return typeof v.value === 'string' ? decimalFromBase64(v.value, v.scale ?? 0) : value;
    }
    default:
      return value;
  }
}

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
