/**
 * Records of Debezium's transaction topic (`<topic.prefix>.transaction`): one BEGIN and one END
 * per source transaction, END carrying the count of its events per table (`data_collections`).
 * JSON with or without the schema wrapper, or registry-framed Avro, like the change topics.
 */
import { SyncError } from '../core/errors';
import { avroFrame } from './avro-framing';
import { decodeDatum, type WriterSchemas } from './avro';
import { parseJson } from './decode';
import type { RawRecord } from './types';

export interface TransactionBoundary {
  readonly status: 'BEGIN' | 'END';
  readonly id: string;
  /** END only: events of the transaction, and per `db.table`. */
  readonly eventCount?: number;
  readonly dataCollections?: readonly {
    readonly dataCollection: string;
    readonly eventCount: number;
  }[];
}

/** Undefined for a tombstone; throws ENVELOPE_MALFORMED for anything that is not a boundary. */
export function decodeTransactionRecord(
  record: RawRecord,
  schemas: WriterSchemas | undefined,
): TransactionBoundary | undefined {
  if (record.value === null || record.value.length === 0) return undefined;
  const frame = avroFrame(record, 'value');
  let json: unknown;
  if (frame) json = decodeDatum(frame, schemas, 'value').value;
  else {
    try {
      json = parseJson(record.value.toString('utf8'));
    } catch {
      throw malformed('value is not JSON');
    }
  }
  const payload = isObject(json) && 'payload' in json ? json.payload : json;
  if (!isObject(payload)) throw malformed('value is not an object');
  const { status, id } = payload;
  if ((status !== 'BEGIN' && status !== 'END') || typeof id !== 'string' || id === '') {
    throw malformed(
      `status ${JSON.stringify(status)} / id ${JSON.stringify(id)}: not a BEGIN or END`,
    );
  }
  if (status === 'BEGIN') return { status, id };
  const eventCount = count(payload.event_count);
  const raw = payload.data_collections;
  if (eventCount === undefined || !Array.isArray(raw)) {
    throw malformed(`END of ${id} without event_count and data_collections`);
  }
  const dataCollections = raw.map((c: unknown) => {
    const n = isObject(c) ? count(c.event_count) : undefined;
    if (!isObject(c) || typeof c.data_collection !== 'string' || n === undefined) {
      throw malformed(`END of ${id}: data_collections entry ${JSON.stringify(c)}`);
    }
    return { dataCollection: c.data_collection, eventCount: n };
  });
  return { status, id, eventCount, dataCollections };
}

function count(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && /^\d{1,15}$/.test(v)) return Number(v);
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function malformed(message: string): SyncError {
  return new SyncError('ENVELOPE_MALFORMED', `transaction topic record: ${message}`);
}
