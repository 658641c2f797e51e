/**
 * Read-your-writes, pure parts: positions and their order, the questions and their usage errors,
 * Debezium's transaction metadata in every input form (JSON with schema, Avro, flattened, the
 * transaction topic's BEGIN/END), and what the tracker marks for a batch and for an END.
 */
import brandsJson from '../../../fixtures/debezium/brands-update.json';
import { decodeAnyRecord } from '../../../../src/envelope/detect';
import { decodeTransactionRecord } from '../../../../src/envelope/transaction-record';
import type { RawRecord } from '../../../../src/envelope/types';
import { planBatch } from '../../../../src/intake/batch-plan';
import { AppliedMarks } from '../../../../src/intake/applied/marks';
import {
  binlogPosition,
  comparePositions,
  parseBinlog,
  parseGtid,
} from '../../../../src/intake/applied/positions';
import { AppliedUsageError, parseAppliedQuery } from '../../../../src/intake/applied/query';
import { AppliedTracker } from '../../../../src/intake/applied/tracker';
import type { RedisPort } from '../../../../src/redis/port';
import { silentLogger } from '../../../../src/telemetry/logger';
import {
  CAPTURED,
  avroRecord,
  capturedRegistry,
  confluentFrame,
  encodeJsonPayload,
} from '../../../support/avro';
import { batchContext, shippedRules } from '../../../support/rules';

/** A captured brands update (JSON with schema), to amend per test. */
const envelope = () =>
  structuredClone(brandsJson.value) as unknown as { payload: Record<string, unknown> };

const TX = { id: '0-1-98', total_order: 2, data_collection_order: 1 };

const rec = (value: unknown, topic = 'mis.mis.brands'): RawRecord => ({
  topic,
  partition: 0,
  offset: '7',
  key: null,
  value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
});

function eventOf(r: RawRecord, schemas?: Parameters<typeof decodeAnyRecord>[1]) {
  const d = decodeAnyRecord(r, schemas);
  if (d.kind !== 'change') throw new Error('expected a change');
  return d.event;
}

describe('positions', () => {
  it('MariaDB GTIDs order by seq within a domain, never across domains', () => {
    const a = parseGtid('0-1-9');
    const b = parseGtid('0-2-10'); // another server id, same domain: still later
    const c = parseGtid('1-1-1');
    if (!a || !b || !c) throw new Error('parse');
    expect(comparePositions(a, b)).toBe(-1);
    expect(comparePositions(b, a)).toBe(1);
    expect(comparePositions(a, c)).toBeUndefined();
    // numeric, not text: 9 < 10 although "9" > "10"
    expect(a.rank < b.rank).toBe(true);
  });

  it('MySQL uuid:seq GTIDs', () => {
    const u = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
    const a = parseGtid(`${u}:9`);
    const b = parseGtid(`${u.toUpperCase()}:23`);
    if (!a || !b) throw new Error('parse');
    expect(comparePositions(a, b)).toBe(-1);
  });

  it('binlog positions order by file index, then position', () => {
    const a = parseBinlog('mysql-bin.000009:99999');
    const b = parseBinlog('mysql-bin.000010:4');
    const c = binlogPosition('mysql-bin.000010', 5);
    if (!a || !b || !c) throw new Error('parse');
    expect(comparePositions(a, b)).toBe(-1);
    expect(comparePositions(b, c)).toBe(-1);
    expect(comparePositions(c, c)).toBe(0);
  });

  it.each(['', '0-1', '0-1-x', 'abc:5', '1-2-3-4'])('%j is no GTID', (t) => {
    expect(parseGtid(t)).toBeUndefined();
  });
});

describe('questions', () => {
  it.each([
    [{}, /exactly one/],
    [{ gtid: '0-1-5', binlog: 'b.000001:4' }, /exactly one/],
    [{ gtid: 'x' }, /neither domain-server-seq/],
    [{ binlog: 'nofile' }, /<file>:<pos>/],
    [{ gtid: '0-1-5', wait: 'forever' }, /not a duration/],
    [{ gtid: '0-1-5', wait: '10m' }, /exceeds 300s/],
  ])('%j is a usage error', (q, message) => {
    expect(() => parseAppliedQuery(q)).toThrow(AppliedUsageError);
    expect(() => parseAppliedQuery(q)).toThrow(message);
  });

  it('durations: ms, s, m, plain milliseconds', () => {
    expect(parseAppliedQuery({ gtid: '0-1-5', wait: '2s' }).waitMs).toBe(2000);
    expect(parseAppliedQuery({ gtid: '0-1-5', wait: '1.5s' }).waitMs).toBe(1500);
    expect(parseAppliedQuery({ gtid: '0-1-5', wait: '250' }).waitMs).toBe(250);
    expect(parseAppliedQuery({ gtid: '0-1-5' }).waitMs).toBe(0);
  });
});

describe('the transaction block in every input form', () => {
  it('JSON with its schema wrapper', () => {
    const value = envelope();
    value.payload.transaction = TX;
    expect(eventOf(rec(value)).transaction).toEqual({
      id: '0-1-98',
      totalOrder: 2,
      dataCollectionOrder: 1,
    });
    expect(eventOf(rec(brandsJson.value)).transaction).toBeUndefined(); // metadata off: null
  });

  it('Avro (the captured envelope schema of brands)', async () => {
    const payload = {
      ...envelope().payload,
      transaction: TX,
    };
    const value = confluentFrame(4, encodeJsonPayload(CAPTURED.schemas['4'] as string, payload));
    const { registry } = capturedRegistry();
    const r = avroRecord(value);
    await registry.prepare([r]);
    expect(eventOf(r, registry).transaction).toEqual({
      id: '0-1-98',
      totalOrder: 2,
      dataCollectionOrder: 1,
    });
  });

  it('flattened (add.fields=transaction.id,transaction.total_order,…)', () => {
    const row = {
      brand_id: 3,
      brand_code: 'B3',
      __op: 'u',
      __transaction_id: '0-1-98',
      __transaction_total_order: '2',
      __transaction_data_collection_order: 1,
    };
    const e = eventOf(rec(row));
    expect(e.transaction).toEqual({ id: '0-1-98', totalOrder: 2, dataCollectionOrder: 1 });
    expect(e.after).not.toHaveProperty('__transaction_id');
  });

  it('a block without id is a poison message naming its place, not a crash', () => {
    const value = envelope();
    value.payload.transaction = { total_order: 1 };
    const plan = planBatch([rec(value)], batchContext());
    expect(plan.rejected).toHaveLength(1);
    expect(plan.rejected[0]?.place).toEqual({ topic: 'mis.mis.brands', partition: 0, offset: '7' });
    expect(plan.rejected[0]?.error.message).toMatch(/transaction block without id/);
  });

  it('planBatch hands the block and the binlog place on with the handled event', () => {
    const value = envelope();
    value.payload.transaction = TX;
    const [h] = planBatch([rec(value)], batchContext()).handled;
    expect(h?.transaction?.id).toBe('0-1-98');
    expect(h?.source).toMatchObject({ file: 'mariadb-bin.000002', pos: 13613 });
  });
});

describe('transaction topic records', () => {
  const end = {
    status: 'END',
    id: '0-1-98',
    event_count: 3,
    data_collections: [
      { data_collection: 'mis.brands', event_count: 1 },
      { data_collection: 'mis.audit_log', event_count: 1 }, // no rule: not waited for
      { data_collection: 'other.brands', event_count: 1 }, // not a watched database
    ],
    ts_ms: 1,
  };

  it('BEGIN and END, bare or in the schema wrapper', () => {
    expect(
      decodeTransactionRecord(rec({ status: 'BEGIN', id: 'x', event_count: null }), undefined),
    ).toEqual({ status: 'BEGIN', id: 'x' });
    const d = decodeTransactionRecord(rec({ schema: {}, payload: end }), undefined);
    expect(d).toMatchObject({ status: 'END', id: '0-1-98', eventCount: 3 });
    expect(decodeTransactionRecord({ ...rec(''), value: null }, undefined)).toBeUndefined();
  });

  it('END in Avro (registry-framed), as the Avro converter writes it', async () => {
    const schema = JSON.stringify({
      type: 'record',
      name: 'TransactionMetadataValue',
      namespace: 'io.debezium.connector.common',
      fields: [
        { name: 'status', type: 'string' },
        { name: 'id', type: 'string' },
        { name: 'event_count', type: ['null', 'long'], default: null },
        {
          name: 'data_collections',
          type: [
            'null',
            {
              type: 'array',
              items: {
                type: 'record',
                name: 'ConnectDefault',
                namespace: 'io.confluent.connect.avro',
                fields: [
                  { name: 'data_collection', type: 'string' },
                  { name: 'event_count', type: 'long' },
                ],
              },
            },
          ],
          default: null,
        },
        { name: 'ts_ms', type: 'long' },
      ],
    });
    const { registry } = capturedRegistry({ '900': schema });
    const r = avroRecord(confluentFrame(900, encodeJsonPayload(schema, end)), 'mis.transaction');
    await registry.prepare([r]);
    expect(decodeTransactionRecord(r, registry)).toEqual({
      status: 'END',
      id: '0-1-98',
      eventCount: 3,
      dataCollections: [
        { dataCollection: 'mis.brands', eventCount: 1 },
        { dataCollection: 'mis.audit_log', eventCount: 1 },
        { dataCollection: 'other.brands', eventCount: 1 },
      ],
    });
  });

  it.each([['not json'], [{ status: 'MIDDLE', id: 'x' }], [{ status: 'END', id: 'x' }]])(
    '%j is malformed',
    (v) => {
      expect(() => decodeTransactionRecord(rec(v), undefined)).toThrow(/transaction topic record/);
    },
  );

  /** The arguments of every script call, a port doing nothing else. */
  function recordingPort() {
    const calls: (string | number | Buffer)[][] = [];
    const port = {
      eval: async (_s: string, _k: readonly string[], a: readonly (string | number | Buffer)[]) => (
        calls.push([...a]),
        'pending'
      ),
    };
    return { port: port as unknown as RedisPort, calls };
  }

  it('an END expects only the events of watched databases and ruled tables', async () => {
    const { port, calls } = recordingPort();
    const tracker = new AppliedTracker({
      marks: new AppliedMarks(port),
      rules: shippedRules,
      databases: new Set(['mis']),
      logger: silentLogger(),
    });
    await tracker.recordBoundaries([
      rec({ status: 'BEGIN', id: '0-1-98' }, 'mis.transaction'),
      rec(end, 'mis.transaction'),
      rec('garbage', 'mis.transaction'),
    ]);
    const recordEnd = calls.find((a) => a[2] === '0-1-98');
    expect(recordEnd?.slice(2)).toEqual(['0-1-98', 1, 'gtid:0', '00000000000000000098']);
  });

  it('a batch marks its handled events and flags the transaction of a rejected one', async () => {
    const { port, calls } = recordingPort();
    const tracker = new AppliedTracker({
      marks: new AppliedMarks(port),
      rules: shippedRules,
      logger: silentLogger(),
    });
    const good = envelope();
    good.payload.transaction = TX;
    const bad = structuredClone(good);
    bad.payload.transaction = { ...TX, id: '0-1-99', total_order: 1 };
    (bad.payload.source as Record<string, unknown>).table = 'nosuch'; // decoded, then UNKNOWN_TABLE
    const plan = planBatch([rec(good), rec(bad)], batchContext());
    expect(plan.rejected).toHaveLength(1);
    await tracker.recordPlan(plan);
    const [first] = calls;
    expect(first?.slice(2)).toEqual([
      '0-1-98',
      2,
      '00000000000000000002:00000000000000013613',
      '0',
      '0-1-99',
      1,
      '',
      '1',
    ]);
  });
});
