/**
 * `--format avro` of the throughput bench: the generator's JSON-converter events re-encoded the
 * way Apicurio's AvroConverter writes them on the Avro stack (Confluent framing: magic byte 0,
 * 4-byte schema id, Avro binary), with the writer schemas captured from that stack
 * (test/fixtures/avro/captured.json) registered under the bench's own subjects.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import avro from 'avsc';
import { parseWriterSchema } from '../src/envelope/avro';
import type { BenchTable, GeneratedEvent } from './generate';

/** Schema ids of the captured fixture, per table: key and value. */
const CAPTURED_IDS: Record<BenchTable, { key: number; value: number }> = {
  brands: { key: 3, value: 4 },
  trade_orders: { key: 13, value: 14 },
  user_auth: { key: 15, value: 16 },
};

interface Writer {
  readonly id: number;
  readonly type: avro.Type;
}

export interface AvroEncoder {
  encode(e: GeneratedEvent): GeneratedEvent;
}

export async function avroEncoder(
  repo: string,
  registryUrl: string,
  topicOf: (table: BenchTable) => string,
): Promise<AvroEncoder> {
  const captured = JSON.parse(
    readFileSync(path.join(repo, 'test', 'fixtures', 'avro', 'captured.json'), 'utf8'),
  ) as { schemas: Record<string, string> };
  const writers = {} as Record<BenchTable, { key: Writer; value: Writer }>;
  for (const [table, ids] of Object.entries(CAPTURED_IDS) as [
    BenchTable,
    typeof CAPTURED_IDS.brands,
  ][]) {
    const one = async (part: 'key' | 'value'): Promise<Writer> => {
      const text = captured.schemas[String(ids[part])];
      if (!text) throw new Error(`captured schema ${ids[part]} missing`);
      const res = await fetch(`${registryUrl}/subjects/${topicOf(table)}-${part}/versions`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
        body: JSON.stringify({ schema: text }),
      });
      if (!res.ok)
        throw new Error(`registering ${table}-${part}: ${res.status} ${await res.text()}`);
      const { id } = (await res.json()) as { id: number };
      return { id, type: parseWriterSchema(text).type };
    };
    writers[table] = { key: await one('key'), value: await one('value') };
  }
  return {
    encode(e) {
      const w = writers[e.table];
      const frame = (writer: Writer, json: Buffer) => {
        const { payload } = JSON.parse(json.toString('utf8')) as { payload: unknown };
        const body = writer.type.toBuffer(toDatum(writer.type, payload));
        const head = Buffer.alloc(5);
        head.writeUInt32BE(writer.id, 1);
        return Buffer.concat([head, body]);
      };
      return { table: e.table, key: frame(w.key, e.key), value: frame(w.value, e.value) };
    },
  };
}

/** JSON-converter payload → Avro datum: base64 text where the schema has bytes. */
function toDatum(type: avro.Type, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (type.typeName === 'bytes') return typeof v === 'string' ? Buffer.from(v, 'base64') : v;
  if (type instanceof avro.types.UnwrappedUnionType) {
    return toDatum(type.types.find((t) => t.typeName !== 'null') as avro.Type, v);
  }
  if (type instanceof avro.types.RecordType) {
    const out: Record<string, unknown> = {};
    for (const f of type.fields)
      out[f.name] = toDatum(f.type, (v as Record<string, unknown>)[f.name]);
    return out;
  }
  return v;
}
