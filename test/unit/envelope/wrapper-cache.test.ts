import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeRecord } from '../../../src/envelope/decode';
import { decodeKey } from '../../../src/envelope/flattened';
import type { RawRecord } from '../../../src/envelope/types';
import { WrapperCache, endOfJsonValue } from '../../../src/envelope/wrapper-cache';

const fixture = (name: string) =>
  (
    JSON.parse(
      readFileSync(path.join(__dirname, '../../fixtures/debezium', `${name}.json`), 'utf8'),
    ) as { value: { schema: unknown; payload: Record<string, unknown> } }
  ).value;

const raw = (topic: string, text: string): RawRecord => ({
  topic,
  partition: 0,
  offset: '0',
  key: null,
  value: Buffer.from(text),
});

describe('WrapperCache', () => {
  const { schema, payload } = fixture('trade_orders-create');
  const text = JSON.stringify({ schema, payload });

  it('finds the end of the schema object, strings and escapes respected', () => {
    const b = Buffer.from('{"schema":{"a":"}\\"{","b":[1,{"c":2}]},"payload":{}}');
    const end = endOfJsonValue(b, '{"schema":'.length);
    expect(b.toString('utf8', end)).toBe(',"payload":{}}');
  });

  it('after learning a wrapper, a value with the same head yields the schema and the payload text', () => {
    const cache = new WrapperCache();
    const value = Buffer.from(text);
    expect(cache.lookup('t', value)).toBeUndefined();
    cache.learn('t', value, schema);
    const next = { ...payload, op: 'u', before: payload.after };
    const hit = cache.lookup('t', Buffer.from(JSON.stringify({ schema, payload: next })));
    expect(hit?.schema).toBe(schema);
    expect(JSON.parse(hit?.payloadText ?? 'null')).toEqual(next);
    expect(cache.lookup('other-topic', value)).toBeUndefined();
  });

  it('misses on another schema text (DDL) and on a value that does not end the wrapper', () => {
    const cache = new WrapperCache();
    cache.learn('t', Buffer.from(text), schema);
    const changed = JSON.stringify({ schema: { ...(schema as object), name: 'v2' }, payload });
    expect(cache.lookup('t', Buffer.from(changed))).toBeUndefined();
    expect(cache.lookup('t', Buffer.from(`${text} `))).toBeUndefined();
  });

  it('decodeRecord gives the same event through the cache as through a full parse', () => {
    const topic = `wrapper-test-${Math.random()}`;
    const first = decodeRecord(raw(topic, text)); // full parse, learns the wrapper
    const again = decodeRecord(raw(topic, text)); // payload-only parse
    expect(again).toEqual(first);
    expect(first.kind === 'change' && first.event.after?.order_date).toBe('2024-03-15');
  });

  it('a payload holding an integer beyond 2^53 keeps it exact on the cached path too', () => {
    const topic = `wrapper-test-${Math.random()}`;
    decodeRecord(raw(topic, text));
    const big = text.replace(/"order_id":4\b/, '"order_id":9007199254740993');
    expect(big).not.toBe(text);
    const decoded = decodeRecord(raw(topic, big));
    expect(decoded.kind === 'change' && decoded.event.after?.order_id).toBe(9007199254740993n);
  });

  it('a member after the payload is not mistaken for the payload: the full parse decides', () => {
    const topic = `wrapper-test-${Math.random()}`;
    decodeRecord(raw(topic, text));
    const extra = `${text.slice(0, -1)},"extra":1}`;
    const decoded = decodeRecord(raw(topic, extra));
    expect(decoded).toEqual(decodeRecord(raw(`${topic}-fresh`, extra)));
  });

  it('a flattened row and a null payload behave the same through the cache', () => {
    const topic = `wrapper-test-${Math.random()}`;
    const flatSchema = {
      type: 'struct',
      name: 'flat.mis.trade_orders.Value',
      fields: [{ field: 'order_date', type: 'int32', name: 'io.debezium.time.Date' }],
    };
    const flat = (payload: unknown) => JSON.stringify({ schema: flatSchema, payload });
    decodeRecord(raw(topic, flat({ order_id: 1, order_date: 19797, __op: 'c' }))); // learns
    const row = flat({ order_id: 2, order_date: 19798, __op: 'u' });
    const cached = decodeRecord(raw(topic, row));
    expect(cached).toEqual(decodeRecord(raw(`${topic}-fresh`, row)));
    expect(cached.kind === 'change' && cached.event.after).toEqual({
      order_id: 2,
      order_date: '2024-03-16',
    });
    expect(decodeRecord(raw(topic, flat(null)))).toEqual({ kind: 'tombstone' });
  });

  it('decodeKey with a topic reuses the key schema and decodes like a full parse', () => {
    const topic = `wrapper-test-${Math.random()}`;
    const keySchema = {
      type: 'struct',
      name: 'mis.mis.trade_orders.Key',
      fields: [{ field: 'order_date', type: 'int32', name: 'io.debezium.time.Date' }],
    };
    const key = (payload: unknown) => Buffer.from(JSON.stringify({ schema: keySchema, payload }));
    expect(decodeKey(key({ order_date: 19797 }), topic)).toEqual({ order_date: '2024-03-15' });
    const cached = decodeKey(key({ order_date: 19798 }), topic); // payload-only parse
    expect(cached).toEqual(decodeKey(key({ order_date: 19798 })));
    expect(cached).toEqual({ order_date: '2024-03-16' });
    expect(
      decodeKey(Buffer.from(`${key({ order_date: 1 }).toString().slice(0, -1)},"x":1}`), topic),
    ).toEqual(decodeKey(Buffer.from(`${key({ order_date: 1 }).toString().slice(0, -1)},"x":1}`)));
  });
});
