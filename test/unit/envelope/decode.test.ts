import { decodeEnvelope, decodeRecord } from '../../../src/envelope/decode';
import { SyncError } from '../../../src/core/errors';
import { payload, record } from '../../support/envelopes';

const brand = (name: string) => ({
  brand_id: 1,
  brand_name: name,
  brand_code: 'REAN',
  sort: 1,
  use_yn: 'Y',
});

describe('decodeRecord', () => {
  it.each([
    ['null value', null],
    ['empty value', ''],
    ['JSON null', 'null'],
  ])('treats a %s as a tombstone', (_label, value) => {
    expect(decodeRecord(record(value))).toEqual({ kind: 'tombstone' });
  });

  it('decodes a bare payload (schemas disabled)', () => {
    const decoded = decodeRecord(
      record(payload({ op: 'u', before: brand('리안'), after: brand('리안2'), table: 'brands' })),
    );
    expect(decoded.kind).toBe('change');
    if (decoded.kind !== 'change') return;
    expect(decoded.event.op).toBe('u');
    expect(decoded.event.before?.brand_name).toBe('리안');
    expect(decoded.event.after?.brand_name).toBe('리안2');
    expect(decoded.event.source).toMatchObject({
      connector: 'mariadb',
      db: 'mis',
      table: 'brands',
      pos: 1234,
    });
    expect(decoded.event.tsMs).toBe(1_700_000_000_100);
  });

  it('decodes the {schema, payload} form and applies logical types', () => {
    const rowSchema = {
      type: 'struct',
      fields: [
        { field: 'order_id', type: 'int32' },
        { field: 'order_date', type: 'int32', name: 'io.debezium.time.Date' },
        {
          field: 'amount',
          type: 'bytes',
          name: 'org.apache.kafka.connect.data.Decimal',
          parameters: { scale: '2' },
        },
      ],
    };
    const value = {
      schema: {
        type: 'struct',
        fields: [
          { ...rowSchema, field: 'before', optional: true },
          { ...rowSchema, field: 'after', optional: true },
          { field: 'op', type: 'string' },
        ],
      },
      payload: payload({
        op: 'c',
        after: { order_id: 7, order_date: 19723, amount: 'EtaH' },
        table: 'trade_orders',
      }),
    };
    const decoded = decodeRecord(record(value));
    if (decoded.kind !== 'change') throw new Error('expected a change');
    expect(decoded.event.after).toEqual({
      order_id: 7,
      order_date: '2024-01-01',
      amount: '12345.67',
    });
    expect(decoded.event.before).toBeNull();
  });

  it('accepts every op with the images it needs', () => {
    expect(decodeEnvelope(payload({ op: 'c', after: brand('a') })).op).toBe('c');
    expect(decodeEnvelope(payload({ op: 'r', after: brand('a') })).op).toBe('r');
    expect(decodeEnvelope(payload({ op: 'd', before: brand('a') })).op).toBe('d');
    expect(decodeEnvelope(payload({ op: 't' })).op).toBe('t');
  });

  it('keeps the snapshot marker as text whether Debezium sent a boolean or a string', () => {
    const p = payload({ op: 'r', after: brand('a'), snapshot: 'last' });
    expect(decodeEnvelope(p).source.snapshot).toBe('last');
    (p.source as Record<string, unknown>).snapshot = true;
    expect(decodeEnvelope(p).source.snapshot).toBe('true');
  });

  it.each([
    ['not JSON', '{"op":', /value is not JSON/],
    ['an array', '[1,2]', /not a JSON object/],
    ['a number', '42', /not a JSON object/],
    ['a missing op', JSON.stringify({ before: null, after: {} }), /op is undefined/],
    ['an unknown op', JSON.stringify(payload({ op: 'x', after: {} })), /op is "x"/],
    ['a create without after', JSON.stringify(payload({ op: 'c' })), /without an after image/],
    ['a delete without before', JSON.stringify(payload({ op: 'd' })), /without a before image/],
    [
      'a non-object image',
      JSON.stringify({ ...payload({ op: 'u', after: {} }), before: 'x' }),
      /before is not an object/,
    ],
    [
      'a non-object payload',
      JSON.stringify({ schema: {}, payload: 3 }),
      /payload is not an object/,
    ],
  ])('rejects %s as ENVELOPE_MALFORMED', (_label, value, message) => {
    let caught: unknown;
    try {
      decodeRecord(record(value));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SyncError);
    expect((caught as SyncError).code).toBe('ENVELOPE_MALFORMED');
    expect((caught as SyncError).retryable).toBe(false);
    expect((caught as SyncError).message).toMatch(message);
  });
});

describe('BIGINT beyond 2^53', () => {
  it('keeps every digit of large integers and leaves small ones as numbers', () => {
    const text = JSON.stringify(
      payload({ op: 'c', after: { id: 1, big: 0 }, table: 'users' }),
    ).replace('"big":0', '"big":9007199254740993');
    const decoded = decodeRecord(record(text));
    if (decoded.kind !== 'change') throw new Error('expected a change');
    expect(decoded.event.after?.big).toBe(9007199254740993n);
    expect(decoded.event.after?.id).toBe(1);
    expect(decoded.event.tsMs).toBe(1_700_000_000_100);
  });
});

describe('parse speed path', () => {
  it('large envelope numbers (ts_us, ts_ns) do not make safe image values BigInt', () => {
    const p = {
      ...payload({ op: 'u', before: { id: 1 }, after: { id: 2 }, table: 'users' }),
      ts_us: 1_700_000_000_100_000,
      ts_ns: '1700000000100000000',
    };
    const text = JSON.stringify(p).replace('"1700000000100000000"', '1700000000100000000');
    const decoded = decodeRecord(record(text));
    if (decoded.kind !== 'change') throw new Error('expected a change');
    expect(decoded.event.after?.id).toBe(2);
    expect(typeof decoded.event.tsMs).toBe('number');
  });
});
