/**
 * The format a rebuilt value is written in, per family (MCS_VALUE_FORMATS): JSON (the target
 * format of the spec) or Python pickle (what the MIS application historically reads with
 * `pickle.loads`). Refreshes write it; `verify` reads it back.
 */
import type { ValueFormat } from '../core/value-formats';
import { dumps, loads, type PyValue } from './pickle';

export type { ValueFormat, ValueFormats } from '../core/value-formats';

/**
 * Loader rows → the stored value. Loader values are JSON-ready (numbers, text, null; dates and
 * DECIMALs as text, BIGINT beyond 2^53 as text): in pickle they become int, float, str, None.
 */
export function encodeValue(format: ValueFormat, value: unknown): string | Buffer {
  return format === 'pickle' ? dumps(toPython(value)) : JSON.stringify(value);
}

/** The stored value → plain JSON-comparable data; undefined when it is not in that format. */
export function decodeValue(format: ValueFormat, raw: Buffer): unknown {
  try {
    if (format === 'json') return JSON.parse(raw.toString('utf8'));
    // Decimal, date, datetime compare by their text (toJSON), as the JSON format holds them.
    return JSON.parse(
      JSON.stringify(loads(raw), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
    );
  } catch {
    return undefined;
  }
}

function toPython(v: unknown): PyValue {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v.map(toPython);
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
      return v;
    case 'object':
      if (v instanceof Date) return v.toISOString();
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, toPython(x)]),
      );
    default:
      return String(v);
  }
}
