import { decodeRecord } from '../../../src/envelope/decode';
import { decodeKey } from '../../../src/envelope/flattened';
import { SyncError } from '../../../src/core/errors';
import { record } from '../../support/envelopes';

const decode = (value: unknown) => {
  const d = decodeRecord(record(value));
  if (d.kind !== 'change') throw new Error('not a change');
  return d.event;
};

describe('flattened records (ExtractNewRecordState)', () => {
  const row = { product_id: 5, category_id: 2, brand_id: 1 };

  it('a plain row without added fields is an update without a before image', () => {
    expect(decode(row)).toEqual({ op: 'u', before: null, after: row, source: {}, flattened: true });
  });

  it('reads __op, __table, __source_ts_ms and strips them from the row', () => {
    const e = decode({ ...row, __op: 'c', __table: 'products', __source_ts_ms: 1700000000000 });
    expect(e).toMatchObject({
      op: 'c',
      after: row,
      source: { table: 'products', tsMs: 1700000000000 },
    });
  });

  it('__deleted "true" (rewrite) is a delete with the last row as before image', () => {
    expect(decode({ ...row, __deleted: 'true', __op: 'd' })).toMatchObject({
      op: 'd',
      before: row,
      after: null,
    });
  });

  it('a snapshot row without __op is a read', () => {
    expect(decode({ ...row, __source_snapshot: 'last_in_data_collection' }).op).toBe('r');
  });

  it('the {schema, payload} form decodes logical types', () => {
    const e = decode({
      schema: {
        type: 'struct',
        name: 'flat.mis.trade_orders.Value',
        fields: [{ field: 'order_date', type: 'int32', name: 'io.debezium.time.Date' }],
      },
      payload: { order_id: 1, order_date: 19797 },
    });
    expect(e.after).toEqual({ order_id: 1, order_date: '2024-03-15' });
  });

  it('an envelope stays an envelope, with its own errors', () => {
    expect(() => decode({ before: null, after: {} })).toThrow(/op is undefined/);
    expect(() => decode({ ...row, __op: 'x' })).toThrow(SyncError);
  });

  it('a null payload with a schema is a tombstone (unwrap SMT, tombstone mode)', () => {
    expect(decodeRecord(record({ schema: { type: 'struct' }, payload: null }))).toEqual({
      kind: 'tombstone',
    });
  });

  it('the record key gives the primary key, with or without schema', () => {
    expect(decodeKey(Buffer.from('{"product_id":5}'))).toEqual({ product_id: 5 });
    expect(decodeKey(Buffer.from('{"schema":{},"payload":{"product_id":5}}'))).toEqual({
      product_id: 5,
    });
    expect(decodeKey(null)).toBeNull();
  });
});
