/** Avro test helpers: captured registry schemas, framing, and a registry over a plain map. */
import avro from 'avsc';
import captured from '../fixtures/avro/captured.json';
import { parseWriterSchema } from '../../src/envelope/avro';
import type { RawRecord } from '../../src/envelope/types';
import type { HttpAnswer, RegistrySettings } from '../../src/registry/client';
import { SchemaRegistry } from '../../src/registry/client';

export const CAPTURED = captured as {
  schemas: Record<string, string>;
  topics: Record<string, { offset: string; key: string | null; value: string | null }[]>;
};

export const SETTINGS: RegistrySettings = {
  url: 'http://registry.test/apis/ccompat/v7',
  apicurioUrl: '',
  username: '',
  password: '',
  caFile: '',
  timeoutMs: 1000,
};

/** A registry whose HTTP answers come from `answer(url)`; counts the requests. */
export function fakeRegistry(answer: (url: string) => HttpAnswer | Error): {
  registry: SchemaRegistry;
  requests: string[];
} {
  const requests: string[] = [];
  const registry = new SchemaRegistry(SETTINGS, async (url) => {
    requests.push(url);
    const a = answer(url);
    if (a instanceof Error) throw a;
    return a;
  });
  return { registry, requests };
}

/** Serves the captured schemas under /schemas/ids/{id} and /ids/globalIds/{id}. */
export function capturedRegistry(extra: Record<string, string> = {}) {
  const all: Record<string, string> = { ...CAPTURED.schemas, ...extra };
  return fakeRegistry((url) => {
    const m = /\/(schemas\/ids|ids\/globalIds|ids\/contentIds)\/(\d+)$/.exec(url);
    const text = m ? all[m[2] as string] : undefined;
    if (text === undefined) return { status: 404, body: '{"error_code":40403}' };
    return m?.[1] === 'schemas/ids'
      ? { status: 200, body: JSON.stringify({ schema: text }) }
      : { status: 200, body: text };
  });
}

export function confluentFrame(id: number, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(id, 1);
  return Buffer.concat([head, body]);
}

export function apicurioFrame(globalId: number, body: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeBigUInt64BE(BigInt(globalId), 1);
  return Buffer.concat([head, body]);
}

export function avroRecord(
  value: Buffer | null,
  topic = 'mis.mis.brands',
  offset = '0',
): RawRecord {
  return { topic, partition: 0, offset, key: null, value };
}

/** Encodes a JSON-converter payload with an Avro schema (base64 strings → bytes where the schema says bytes). */
export function encodeJsonPayload(schemaText: string, payload: unknown): Buffer {
  const { type } = parseWriterSchema(schemaText);
  return type.toBuffer(toDatum(type, payload));
}

function toDatum(type: avro.Type, v: unknown): unknown {
  if (v === null || v === undefined) return v ?? null;
  if (type.typeName === 'bytes' || type.typeName === 'fixed')
    return typeof v === 'string' ? Buffer.from(v, 'base64') : v;
  if (type instanceof avro.types.UnwrappedUnionType) {
    const branch = type.types.find((t) => t.typeName !== 'null') as avro.Type;
    return toDatum(branch, v);
  }
  if (type instanceof avro.types.RecordType) {
    const out: Record<string, unknown> = {};
    for (const f of type.fields)
      out[f.name] = toDatum(f.type, (v as Record<string, unknown>)[f.name]);
    return out;
  }
  if (type instanceof avro.types.ArrayType)
    return (v as unknown[]).map((x) => toDatum(type.itemsType, x));
  return v;
}
