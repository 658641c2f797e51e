/**
 * Avro decoding: real records captured from the Avro stack, the JSON path and the Avro path
 * compared on the same rows (same event, same keys), Debezium's logical types, framings, and
 * what is retryable versus poison.
 */
import tradeOrdersJson from '../../fixtures/debezium/trade_orders-create.json';
import brandsJson from '../../fixtures/debezium/brands-update.json';
import userAuthJson from '../../fixtures/debezium/user_auth-delete.json';
import { avroFrame, schemaRefsOf } from '../../../src/envelope/avro-framing';
import { decodeEnvelope } from '../../../src/envelope/decode';
import { decodeAnyRecord } from '../../../src/envelope/detect';
import type { ChangeEvent, RawRecord } from '../../../src/envelope/types';
import { planBatch } from '../../../src/intake/batch-plan';
import { planEvent } from '../../../src/rules/plan';
import {
  CAPTURED,
  apicurioFrame,
  avroRecord,
  capturedRegistry,
  confluentFrame,
  encodeJsonPayload,
  fakeRegistry,
} from '../../support/avro';
import { batchContext, planOptions, shippedRules } from '../../support/rules';

const TABLES = { trade_orders: 14, brands: 4, user_auth: 16 } as const;

function change(record: RawRecord, schemas: Parameters<typeof decodeAnyRecord>[1]): ChangeEvent {
  const d = decodeAnyRecord(record, schemas);
  if (d.kind !== 'change') throw new Error('expected a change event');
  return d.event;
}

function keys(table: string, event: ChangeEvent): string[] {
  const rule = shippedRules.get(table);
  if (!rule) throw new Error(table);
  return planEvent(event, rule, planOptions())
    .map((o) => `${o.family} ${o.action} ${o.key}`)
    .sort();
}

describe('Avro records captured from the Avro stack (Confluent framing)', () => {
  const captured = (topic: string) =>
    (CAPTURED.topics[topic] ?? []).map((m) =>
      avroRecord(m.value === null ? null : Buffer.from(m.value, 'base64'), topic, m.offset),
    );

  it('start with magic byte 0 and a 4-byte schema id', () => {
    for (const topic of Object.keys(CAPTURED.topics)) {
      for (const r of captured(topic)) {
        expect(r.value?.[0]).toBe(0);
        expect(avroFrame(r)?.framing).toBe('confluent');
      }
    }
  });

  it('decode to plain values: DATE, DECIMAL(15,2) negative, DATETIME, Korean text', async () => {
    const { registry } = capturedRegistry();
    const records = captured('mis.mis.trade_orders');
    await registry.prepare(records);
    const update = change(records[records.length - 1] as RawRecord, registry);
    expect(update.op).toBe('u');
    expect(update.source).toMatchObject({ connector: 'mariadb', table: 'trade_orders', db: 'mis' });
    expect(update.after).toMatchObject({
      order_id: 2,
      order_date: '2024-01-01',
      amount: '-1234.56',
      status: 'SHIPPED',
      updated_at: '2024-03-05T06:07:08.000000',
    });
    expect(update.before).toMatchObject({ amount: '389000.50', status: 'SHIPPED' });

    const brands = captured('mis.mis.brands');
    await registry.prepare(brands);
    const renamed = brands
      .map((r) => change(r, registry))
      .find((e) => e.op === 'u' && e.after?.brand_name === '조이2');
    expect(renamed?.before).toMatchObject({ brand_id: 2, brand_name: '조이' });
    expect(keys('brands', renamed as ChangeEvent)).toEqual(
      keys('brands', {
        ...(renamed as ChangeEvent),
        before: { ...(renamed?.before ?? {}) },
        after: { ...(renamed?.after ?? {}) },
      }),
    );
    expect(keys('brands', renamed as ChangeEvent).join('\n')).toContain('master:brands');
  });

  it('fetch each schema once (cached), keys included', async () => {
    const { registry, requests } = capturedRegistry();
    const records = captured('mis.mis.user_auth').map((r, i) => ({
      ...r,
      key: Buffer.from(CAPTURED.topics['mis.mis.user_auth']?.[i]?.key ?? '', 'base64'),
    }));
    await registry.prepare(records);
    await registry.prepare(records);
    expect(requests.sort()).toEqual([
      'http://registry.test/apis/ccompat/v7/schemas/ids/15',
      'http://registry.test/apis/ccompat/v7/schemas/ids/16',
    ]);
    for (const r of records) expect(change(r, registry).source.table).toBe('user_auth');
  });
});

describe('the JSON path and the Avro path give the same event and the same keys', () => {
  const cases = [
    ['trade_orders', tradeOrdersJson],
    ['brands', brandsJson],
    ['user_auth', userAuthJson],
  ] as const;
  it.each(cases)(
    '%s (real JSON capture, encoded with the real registry schema)',
    async (table, fixture) => {
      const json = fixture.value as { schema: unknown; payload: unknown };
      const id = TABLES[table];
      const bytes = confluentFrame(
        id,
        encodeJsonPayload(CAPTURED.schemas[id] as string, json.payload),
      );
      const { registry } = capturedRegistry();
      const record = avroRecord(bytes, `mis.mis.${table}`);
      await registry.prepare([record]);
      const fromAvro = change(record, registry);
      const fromJson = decodeEnvelope(json);
      expect(fromAvro).toEqual(fromJson);
      expect(keys(table, fromAvro)).toEqual(keys(table, fromJson));
      expect(keys(table, fromAvro).length).toBeGreaterThan(0);
    },
  );
});

describe("Debezium's logical types, Avro (AvroData's annotations) versus JSON (Connect schema)", () => {
  const avroSchema = {
    type: 'record',
    name: 'Envelope',
    namespace: 'mis.mis.t',
    fields: [
      {
        name: 'before',
        type: [
          'null',
          {
            type: 'record',
            name: 'Value',
            fields: [
              { name: 'id', type: 'long' },
              { name: 'big', type: ['null', 'long'], default: null },
              {
                name: 'd',
                type: {
                  type: 'int',
                  'connect.version': 1,
                  'connect.name': 'io.debezium.time.Date',
                },
              },
              { name: 'ts', type: { type: 'long', 'connect.name': 'io.debezium.time.Timestamp' } },
              {
                name: 'mts',
                type: { type: 'long', 'connect.name': 'io.debezium.time.MicroTimestamp' },
              },
              {
                name: 'nts',
                type: { type: 'long', 'connect.name': 'io.debezium.time.NanoTimestamp' },
              },
              {
                name: 'zts',
                type: { type: 'string', 'connect.name': 'io.debezium.time.ZonedTimestamp' },
              },
              {
                name: 'dec',
                type: {
                  type: 'bytes',
                  scale: 3,
                  precision: 20,
                  'connect.parameters': { scale: '3', 'connect.decimal.precision': '20' },
                  'connect.name': 'org.apache.kafka.connect.data.Decimal',
                  logicalType: 'decimal',
                },
              },
              {
                name: 'plainDec',
                type: { type: 'bytes', logicalType: 'decimal', precision: 5, scale: 1 },
              },
              {
                name: 'vdec',
                type: {
                  type: 'record',
                  name: 'VariableScaleDecimal',
                  namespace: 'io.debezium.data',
                  fields: [
                    { name: 'scale', type: 'int' },
                    { name: 'value', type: 'bytes' },
                  ],
                  'connect.name': 'io.debezium.data.VariableScaleDecimal',
                },
              },
              { name: 'yn', type: ['null', 'string'], default: null },
            ],
          },
        ],
        default: null,
      },
      { name: 'after', type: ['null', 'Value'], default: null },
      {
        name: 'source',
        type: {
          type: 'record',
          name: 'Source',
          namespace: 'io.debezium.connector.mysql',
          fields: [
            { name: 'connector', type: 'string' },
            { name: 'db', type: 'string' },
            { name: 'table', type: ['null', 'string'], default: null },
            { name: 'ts_ms', type: 'long' },
            { name: 'file', type: 'string' },
            { name: 'pos', type: 'long' },
            { name: 'row', type: 'int' },
            { name: 'gtid', type: ['null', 'string'], default: null },
          ],
        },
      },
      { name: 'op', type: 'string' },
      { name: 'ts_ms', type: ['null', 'long'], default: null },
    ],
  };
  const connectValue = (field: string) => ({
    type: 'struct',
    optional: true,
    field,
    name: 'mis.mis.t.Value',
    fields: [
      { type: 'int64', field: 'id' },
      { type: 'int64', optional: true, field: 'big' },
      { type: 'int32', name: 'io.debezium.time.Date', field: 'd' },
      { type: 'int64', name: 'io.debezium.time.Timestamp', field: 'ts' },
      { type: 'int64', name: 'io.debezium.time.MicroTimestamp', field: 'mts' },
      { type: 'int64', name: 'io.debezium.time.NanoTimestamp', field: 'nts' },
      { type: 'string', name: 'io.debezium.time.ZonedTimestamp', field: 'zts' },
      {
        type: 'bytes',
        name: 'org.apache.kafka.connect.data.Decimal',
        parameters: { scale: '3', 'connect.decimal.precision': '20' },
        field: 'dec',
      },
      {
        type: 'bytes',
        name: 'org.apache.kafka.connect.data.Decimal',
        parameters: { scale: '1' },
        field: 'plainDec',
      },
      {
        type: 'struct',
        name: 'io.debezium.data.VariableScaleDecimal',
        field: 'vdec',
        fields: [
          { type: 'int32', field: 'scale' },
          { type: 'bytes', field: 'value' },
        ],
      },
      { type: 'string', optional: true, field: 'yn' },
    ],
  });
  const row = (id: number) => ({
    id,
    big: 9007199254740993n, // 2^53 + 1: exact on both paths
    d: 19797, // 2024-03-15
    ts: 1710513005123,
    mts: 1710513005123456,
    nts: 1710513005123456789n,
    zts: '2024-03-15T14:30:05.123Z',
    dec: Buffer.from([0xfe, 0x1d, 0xc0]).toString('base64'), // -123456 → -123.456
    plainDec: Buffer.from([0x30, 0x39]).toString('base64'), // 12345 → 1234.5
    vdec: { scale: 2, value: Buffer.from([0x01, 0x00]).toString('base64') }, // 2.56
    yn: null,
  });
  const payload = {
    before: row(1),
    after: row(1),
    source: {
      connector: 'mysql',
      db: 'mis',
      table: 't',
      ts_ms: 1710513005000,
      file: 'mysql-bin.000010',
      pos: 154,
      row: 1,
      gtid: '3E11FA47-71CA-11E1-9E33-C80AA9429562:23',
    },
    op: 'u',
    ts_ms: 1710513005999,
  };

  it('decode to the same values', async () => {
    const schemaText = JSON.stringify(avroSchema);
    const bytes = confluentFrame(7, encodeJsonPayload(schemaText, payload));
    const { registry } = capturedRegistry({ 7: schemaText });
    const record = avroRecord(bytes, 'mis.mis.t');
    await registry.prepare([record]);
    const fromAvro = change(record, registry);
    // the JSON converter writes the same payload (numbers beyond 2^53 as digits) with this schema
    const fromJson = decodeEnvelope({
      schema: {
        type: 'struct',
        fields: [connectValue('before'), connectValue('after')],
      },
      payload,
    });
    expect(fromAvro).toEqual(fromJson);
    expect(fromAvro.after).toEqual({
      id: 1,
      big: 9007199254740993n,
      d: '2024-03-15',
      ts: '2024-03-15T14:30:05.123000',
      mts: '2024-03-15T14:30:05.123456',
      nts: '2024-03-15T14:30:05.123456',
      zts: '2024-03-15T14:30:05.123Z',
      dec: '-123.456',
      plainDec: '1234.5',
      vdec: '2.56',
      yn: null,
    });
    expect(fromAvro.source).toMatchObject({
      connector: 'mysql',
      file: 'mysql-bin.000010',
      pos: 154,
    });
  });
});

describe('framings', () => {
  const schemaText = CAPTURED.schemas[TABLES.brands] as string;
  const body = () => {
    const records = CAPTURED.topics['mis.mis.brands'] ?? [];
    const last = records[records.length - 1];
    return Buffer.from(last?.value ?? '', 'base64').subarray(5);
  };

  it("Apicurio's 8-byte global id is fetched from Apicurio's API", async () => {
    const { registry, requests } = capturedRegistry({ 901: schemaText });
    const record = avroRecord(apicurioFrame(901, body()));
    expect(avroFrame(record)).toMatchObject({
      framing: 'apicurio',
      ref: { kind: 'globalId', id: 901 },
    });
    await registry.prepare([record]);
    expect(requests).toEqual(['http://registry.test/apis/registry/v2/ids/globalIds/901']);
    expect(change(record, registry).source.table).toBe('brands');
  });

  it('ids in Apicurio headers: the value is the bare datum', async () => {
    const { registry, requests } = capturedRegistry({ 902: schemaText });
    const id = Buffer.alloc(8);
    id.writeBigUInt64BE(902n);
    const record: RawRecord = {
      ...avroRecord(body()),
      headers: { 'apicurio.value.contentId': id },
    };
    expect(avroFrame(record)).toMatchObject({
      framing: 'apicurio-headers',
      ref: { kind: 'contentId', id: 902 },
    });
    await registry.prepare([record]);
    expect(requests).toEqual(['http://registry.test/apis/registry/v2/ids/contentIds/902']);
    expect(change(record, registry).source.table).toBe('brands');
  });

  it('JSON records are not taken for Avro', () => {
    const record = avroRecord(Buffer.from(JSON.stringify(brandsJson.value)));
    expect(avroFrame(record)).toBeUndefined();
    expect(schemaRefsOf([record])).toEqual([]);
    expect(change(record, undefined).source.table).toBe('brands');
  });
});

describe('failures: registry trouble is retryable, bad bytes are poison', () => {
  const brandsBytes = () => {
    const records = CAPTURED.topics['mis.mis.brands'] ?? [];
    return Buffer.from(records[records.length - 1]?.value ?? '', 'base64');
  };

  it('an id the registry does not have (yet): REGISTRY_UNAVAILABLE, retryable', async () => {
    const { registry } = capturedRegistry();
    const record = avroRecord(confluentFrame(999, brandsBytes().subarray(5)));
    await expect(registry.prepare([record])).rejects.toMatchObject({
      code: 'REGISTRY_UNAVAILABLE',
      retryable: true,
    });
  });

  it('registry unreachable: REGISTRY_UNAVAILABLE, retryable; fine once it answers', async () => {
    let down = true;
    const { registry: flaky } = fakeRegistry((url) => {
      if (down) return new Error('connect ECONNREFUSED 127.0.0.1:1');
      const id = /(\d+)$/.exec(url)?.[1] ?? '';
      return { status: 200, body: JSON.stringify({ schema: CAPTURED.schemas[id] }) };
    });
    const record = avroRecord(brandsBytes());
    await expect(flaky.prepare([record])).rejects.toMatchObject({
      code: 'REGISTRY_UNAVAILABLE',
      retryable: true,
    });
    down = false;
    await flaky.prepare([record]);
    expect(change(record, flaky).source.table).toBe('brands');
  });

  it('bytes that do not decode with their schema: dead-lettered as ENVELOPE_MALFORMED with the reason', async () => {
    const { registry } = capturedRegistry();
    const good = avroRecord(brandsBytes(), 'mis.mis.brands', '1');
    const truncated = avroRecord(brandsBytes().subarray(0, 20), 'mis.mis.brands', '2');
    const trailing = avroRecord(
      Buffer.concat([brandsBytes(), Buffer.from([1, 2, 3])]),
      'mis.mis.brands',
      '3',
    );
    const ctx = batchContext({ schemas: registry });
    await registry.prepare([good, truncated, trailing]);
    const plan = planBatch([good, truncated, trailing], ctx);
    expect(plan.handled.map((h) => h.place.offset)).toEqual(['1']);
    expect(plan.rejected.map((r) => [r.place.offset, r.error.code])).toEqual([
      ['2', 'ENVELOPE_MALFORMED'],
      ['3', 'ENVELOPE_MALFORMED'],
    ]);
    for (const r of plan.rejected)
      expect(r.error.message).toMatch(/does not decode with its writer schema/);
  });

  it('Avro without a configured registry is poison, naming the setting', () => {
    expect(() => decodeAnyRecord(avroRecord(brandsBytes()), undefined)).toThrow(
      /SCHEMA_REGISTRY_URL/,
    );
  });

  it('a schema avsc cannot use makes its records poison (not an endless stall)', async () => {
    const { registry } = capturedRegistry({
      903: '{"type":"record","name":"X","fields":[{"name":"a","type":"nope"}]}',
    });
    const record = avroRecord(confluentFrame(903, Buffer.from([2])));
    await registry.prepare([record]);
    expect(() => decodeAnyRecord(record, registry)).toThrow(/unusable Avro schema/);
  });
});

describe('flattened topics on Avro: the key of a tombstone and a flattened row', () => {
  const keySchema = (CAPTURED.schemas['15'] ?? '') as string; // mis.mis.user_auth.Key
  const ctx = (schemas?: ReturnType<typeof capturedRegistry>['registry']) =>
    batchContext({
      ...(schemas ? { schemas } : {}),
      rowTables: new Set(['user_auth', 'products']),
    });
  const tombstone = (key: Buffer, offset: string): RawRecord => ({
    ...avroRecord(null, 'mis.mis.user_auth', offset),
    key,
  });

  it('a tombstone alone (delete by key) gets its primary key from an Avro key, as from JSON', async () => {
    const { registry } = capturedRegistry();
    const avroKey = confluentFrame(15, encodeJsonPayload(keySchema, { auth_id: 77 }));
    const jsonKey = Buffer.from(JSON.stringify({ auth_id: 77 }));
    const records = [tombstone(avroKey, '1'), tombstone(jsonKey, '2')];
    await registry.prepare(records);
    const plan = planBatch(records, ctx(registry));
    expect(plan.rejected).toEqual([]);
    expect(plan.rows.map((r) => [r.table, r.event, r.key])).toEqual([
      ['user_auth', null, { auth_id: 77 }],
      ['user_auth', null, { auth_id: 77 }],
    ]);
  });

  it('a tombstone alone whose key is neither JSON nor Avro is poison, not a delete lost', () => {
    const plan = planBatch([tombstone(Buffer.from('Struct{auth_id=77}'), '3')], ctx());
    expect(plan.rows).toEqual([]);
    expect(plan.rejected.map((r) => [r.place.offset, r.error.code, r.error.message])).toEqual([
      [
        '3',
        'ENVELOPE_MALFORMED',
        expect.stringMatching(/key is neither JSON nor registry-framed Avro/),
      ],
    ]);
  });

  it('a flattened Avro row decodes as on the JSON path, with its Avro key', async () => {
    // What AvroData makes of ExtractNewRecordState's value schema (add.fields=op,table).
    const valueSchema = JSON.stringify({
      type: 'record',
      name: 'Value',
      namespace: 'flat.mis.products',
      fields: [
        { name: 'product_id', type: 'int' },
        { name: 'category_id', type: 'int' },
        { name: 'brand_id', type: 'int' },
        { name: 'product_name', type: 'string' },
        { name: '__op', type: ['null', 'string'], default: null },
        { name: '__table', type: ['null', 'string'], default: null },
        { name: '__deleted', type: ['null', 'string'], default: null },
      ],
      'connect.name': 'flat.mis.products.Value',
    });
    const productKey = JSON.stringify({
      type: 'record',
      name: 'Key',
      namespace: 'flat.mis.products',
      fields: [{ name: 'product_id', type: 'int' }],
      'connect.name': 'flat.mis.products.Key',
    });
    const { registry } = capturedRegistry({ 9101: valueSchema, 9102: productKey });
    const row = { product_id: 5, category_id: 2, brand_id: 1, product_name: 'p' };
    const flat = { ...row, __op: 'u', __table: 'products', __deleted: 'false' };
    const record: RawRecord = {
      topic: 'mis.mis.products',
      partition: 0,
      offset: '4',
      key: confluentFrame(9102, encodeJsonPayload(productKey, { product_id: 5 })),
      value: confluentFrame(9101, encodeJsonPayload(valueSchema, flat)),
    };
    await registry.prepare([record]);
    const event = change(record, registry);
    expect(event).toMatchObject({ op: 'u', before: null, after: row, flattened: true });
    expect(event.source.table).toBe('products');
    const plan = planBatch([record], ctx(registry));
    expect(plan.rejected).toEqual([]);
    expect(plan.rows.map((r) => [r.table, r.key])).toEqual([['products', { product_id: 5 }]]);
  });
});
