/**
 * One entry for every input form the service accepts, chosen per record from its bytes:
 * a null or empty value is a tombstone; registry-framed Avro (magic byte 0, or Apicurio's id
 * headers) goes to the Avro decoder; anything else to the JSON decoder (`{schema, payload}`,
 * `{payload}` or the bare envelope). Nothing to configure beyond the registry for Avro.
 */
import { decodeAvroKey, decodeAvroRecord, type WriterSchemas } from './avro';
import { decodeRecord } from './decode';
import { decodeKey } from './flattened';
import type { DecodedRecord, RawRecord, Row } from './types';

export function decodeAnyRecord(
  record: RawRecord,
  schemas: WriterSchemas | undefined,
): DecodedRecord {
  if (record.value === null || record.value.length === 0) return { kind: 'tombstone' };
  return decodeAvroRecord(record, schemas) ?? decodeRecord(record);
}

/**
 * The primary-key row of the record's key, Avro or JSON (`{schema, payload}` or bare); null when
 * there is no key or it is neither. Avro key trouble throws (see decodeDatum).
 */
export function decodeAnyKey(record: RawRecord, schemas: WriterSchemas | undefined): Row | null {
  const avro = decodeAvroKey(record, schemas);
  return avro === undefined ? decodeKey(record.key, record.topic) : avro;
}
