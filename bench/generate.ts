/**
 * Deterministic generator of Debezium change events as the stack's JSON converter writes them:
 * `{schema, payload}` values and keys (schemas.enable=true), the Debezium 3.4 MariaDB source
 * block (ts_us / ts_ns included, so 16- and 19-digit integers as in real events) and the
 * `__debezium.context.*` headers. Shapes are copied from test/fixtures/debezium/*.json.
 *
 * The same seed gives the same events, so the planning mode can replay exactly what the
 * Kafka mode produced without keeping hundreds of MB of records in memory.
 */
import { mulberry32 } from '../test/support/random';

export type BenchTable = 'user_auth' | 'trade_orders' | 'brands';
export const BENCH_TABLES: readonly BenchTable[] = ['user_auth', 'trade_orders', 'brands'];

export interface MixOptions {
  readonly events: number;
  readonly users: number;
  readonly brands: number;
  /** Share of trade_orders creates (0..1). */
  readonly ordersShare: number;
  /** Share of brands updates (0..1). */
  readonly brandsShare: number;
  readonly seed: number;
}

export interface GeneratedEvent {
  readonly table: BenchTable;
  readonly key: Buffer;
  readonly value: Buffer;
}

/** Days since epoch of the first order day; orders spread over ORDER_DAYS days from here. */
export const ORDER_DAY0 = Math.floor(Date.UTC(2024, 2, 1) / 86_400_000); // 2024-03-01
export const ORDER_DAYS = 45;
const MENUS = 200;

export const HEADERS: Readonly<Record<string, string>> = {
  '__debezium.context.connectorLogicalName': 'mis',
  '__debezium.context.taskId': '0',
  '__debezium.context.connectorName': 'mariadb',
  '__debezium.context.runId': '01a20d01-07b1-7830-a48a-8907243efc54',
};

// ---- Connect schemas (from the fixtures) --------------------------------------------------

type Field = Record<string, unknown>;
const f = (type: string, field: string, extra: Field = {}): Field => ({
  type,
  optional: false,
  ...extra,
  field,
});
const TIMESTAMP = { name: 'io.debezium.time.Timestamp', version: 1, default: 0 };

const ROW_FIELDS: Record<BenchTable, Field[]> = {
  user_auth: [
    f('int32', 'auth_id'),
    f('int32', 'user_id'),
    f('int32', 'menu_id'),
    f('string', 'create_yn', { default: 'N' }),
    f('string', 'read_yn', { default: 'Y' }),
    f('string', 'update_yn', { default: 'N' }),
    f('string', 'delete_yn', { default: 'N' }),
    f('string', 'use_yn', { default: 'Y' }),
  ],
  trade_orders: [
    f('int64', 'order_id'),
    f('string', 'order_no'),
    f('int32', 'order_date', { name: 'io.debezium.time.Date', version: 1 }),
    f('int32', 'brand_id'),
    f('string', 'channel'),
    f('bytes', 'amount', {
      name: 'org.apache.kafka.connect.data.Decimal',
      version: 1,
      parameters: { scale: '2', 'connect.decimal.precision': '15' },
      default: 'AA==',
    }),
    f('string', 'status', { default: 'ORDERED' }),
    f('int64', 'updated_at', TIMESTAMP),
  ],
  brands: [
    f('int32', 'brand_id'),
    f('string', 'brand_name'),
    f('string', 'brand_code'),
    f('int32', 'sort', { default: 0 }),
    f('string', 'use_yn', { default: 'Y' }),
    f('int64', 'updated_at', TIMESTAMP),
  ],
};

const KEY_FIELD: Record<BenchTable, Field> = {
  user_auth: f('int32', 'auth_id'),
  trade_orders: f('int64', 'order_id'),
  brands: f('int32', 'brand_id'),
};

const SOURCE_SCHEMA: Field = {
  type: 'struct',
  fields: [
    f('string', 'version'),
    f('string', 'connector'),
    f('string', 'name'),
    f('int64', 'ts_ms'),
    {
      type: 'string',
      optional: true,
      name: 'io.debezium.data.Enum',
      version: 1,
      parameters: {
        allowed:
          'true,first,first_in_data_collection,last_in_data_collection,last,false,incremental',
      },
      default: 'false',
      field: 'snapshot',
    },
    f('string', 'db'),
    f('string', 'sequence', { optional: true }),
    f('int64', 'ts_us', { optional: true }),
    f('int64', 'ts_ns', { optional: true }),
    f('string', 'table', { optional: true }),
    f('int64', 'server_id'),
    f('string', 'gtid', { optional: true }),
    f('string', 'file'),
    f('int64', 'pos'),
    f('int32', 'row'),
    f('int64', 'thread', { optional: true }),
    f('string', 'query', { optional: true }),
  ],
  optional: false,
  name: 'io.debezium.connector.mariadb.Source',
  version: 1,
  field: 'source',
};

const TRANSACTION_SCHEMA: Field = {
  type: 'struct',
  fields: [f('string', 'id'), f('int64', 'total_order'), f('int64', 'data_collection_order')],
  optional: true,
  name: 'event.block',
  version: 1,
  field: 'transaction',
};

function valueSchema(table: BenchTable): Field {
  const row = (field: 'before' | 'after'): Field => ({
    type: 'struct',
    fields: ROW_FIELDS[table],
    optional: true,
    name: `mis.mis.${table}.Value`,
    field,
  });
  return {
    type: 'struct',
    fields: [
      row('before'),
      row('after'),
      SOURCE_SCHEMA,
      TRANSACTION_SCHEMA,
      f('string', 'op'),
      f('int64', 'ts_ms', { optional: true }),
      f('int64', 'ts_us', { optional: true }),
      f('int64', 'ts_ns', { optional: true }),
    ],
    optional: false,
    name: `mis.mis.${table}.Envelope`,
    version: 2,
  };
}

function keySchema(table: BenchTable): Field {
  return {
    type: 'struct',
    fields: [KEY_FIELD[table]],
    optional: false,
    name: `mis.mis.${table}.Key`,
  };
}

// Schemas are constant per table: serialize once, splice payloads in.
const VALUE_SCHEMA_TEXT = Object.fromEntries(
  BENCH_TABLES.map((t) => [t, JSON.stringify(valueSchema(t))]),
) as Record<BenchTable, string>;
const KEY_SCHEMA_TEXT = Object.fromEntries(
  BENCH_TABLES.map((t) => [t, JSON.stringify(keySchema(t))]),
) as Record<BenchTable, string>;

// ---- Payloads -------------------------------------------------------------------------------

/** The tests' seeded generator (mulberry32): the same seed gives the same events. */
export const prng = mulberry32;

/** Precise-mode DECIMAL: base64 of the big-endian two's-complement unscaled value. */
export function decimalBase64(unscaled: bigint): string {
  let hex = unscaled.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (parseInt(hex.slice(0, 2), 16) & 0x80) hex = `00${hex}`; // keep it positive
  return Buffer.from(hex, 'hex').toString('base64');
}

/** JSON text where bigint values are written as plain integer literals (like Debezium). */
function stringify(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    typeof v === 'bigint' ? `@@big:${v.toString()}@@` : v,
  ).replace(/"@@big:(-?\d+)@@"/g, '$1');
}

const YN = (b: boolean) => (b ? 'Y' : 'N');
const BASE_TS_MS = 1_795_514_513_000;

/**
 * Yields `mix.events` change events: user_auth updates spread over `users` user ids,
 * trade_orders creates and brands updates in the configured shares, interleaved at random.
 */
export function* generateEvents(mix: MixOptions): Generator<GeneratedEvent> {
  const rand = prng(mix.seed);
  const int = (n: number) => Math.floor(rand() * n);
  let pos = 4_096;
  let gtid = 1_000;
  let orderId = 1_000_000;
  for (let i = 0; i < mix.events; i++) {
    const r = rand();
    const table: BenchTable =
      r < mix.brandsShare
        ? 'brands'
        : r < mix.brandsShare + mix.ordersShare
          ? 'trade_orders'
          : 'user_auth';
    const tsMs = BASE_TS_MS + i * 5;
    pos += 300 + int(400);
    gtid += 1;
    const source = {
      version: '3.4.0.Final',
      connector: 'mariadb',
      name: 'mis',
      ts_ms: tsMs,
      snapshot: 'false',
      db: 'mis',
      sequence: null,
      ts_us: BigInt(tsMs) * 1000n,
      ts_ns: BigInt(tsMs) * 1_000_000n,
      table,
      server_id: 1,
      gtid: `0-1-${gtid}`,
      file: 'mariadb-bin.000002',
      pos,
      row: 0,
      thread: null,
      query: null,
    };
    let keyPayload: Record<string, unknown>;
    let op: string;
    let before: Record<string, unknown> | null = null;
    let after: Record<string, unknown> | null = null;
    if (table === 'user_auth') {
      const userId = 1 + int(mix.users);
      const menuId = 1 + int(MENUS);
      const authId = userId * MENUS + menuId;
      const row = {
        auth_id: authId,
        user_id: userId,
        menu_id: menuId,
        create_yn: YN(rand() < 0.3),
        read_yn: 'Y',
        update_yn: YN(rand() < 0.3),
        delete_yn: YN(rand() < 0.1),
        use_yn: 'Y',
      };
      op = 'u';
      before = row;
      after = { ...row, update_yn: row.update_yn === 'Y' ? 'N' : 'Y' };
      keyPayload = { auth_id: authId };
    } else if (table === 'trade_orders') {
      orderId += 1;
      const day = ORDER_DAY0 + int(ORDER_DAYS);
      const ymd = new Date(day * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
      op = 'c';
      after = {
        order_id: orderId,
        order_no: `TO-${ymd}-${String(orderId % 10_000).padStart(4, '0')}`,
        order_date: day,
        brand_id: 1 + int(mix.brands),
        channel: rand() < 0.6 ? 'ONLINE' : 'STORE',
        amount: decimalBase64(BigInt(1_000 + int(50_000_000))),
        status: 'ORDERED',
        updated_at: tsMs,
      };
      keyPayload = { order_id: orderId };
    } else {
      const brandId = 1 + int(mix.brands);
      const row = {
        brand_id: brandId,
        brand_name: `브랜드 ${brandId}`,
        brand_code: `BR${String(brandId).padStart(3, '0')}`,
        sort: brandId,
        use_yn: 'Y',
        updated_at: tsMs - 86_400_000,
      };
      op = 'u';
      before = row;
      after = { ...row, sort: row.sort + 1 + int(5), updated_at: tsMs };
      keyPayload = { brand_id: brandId };
    }
    const payload = {
      before,
      after,
      source,
      transaction: null,
      op,
      ts_ms: tsMs + 7,
      ts_us: BigInt(tsMs + 7) * 1000n + 577n,
      ts_ns: (BigInt(tsMs + 7) * 1000n + 577n) * 1000n,
    };
    yield {
      table,
      key: Buffer.from(`{"schema":${KEY_SCHEMA_TEXT[table]},"payload":${stringify(keyPayload)}}`),
      value: Buffer.from(`{"schema":${VALUE_SCHEMA_TEXT[table]},"payload":${stringify(payload)}}`),
    };
  }
}

/** Every day key (`YYYYMMDD`) and month key (`YYYYMM`) the generated orders can touch. */
export function orderDays(): { days: string[]; months: string[] } {
  const days: string[] = [];
  for (let d = 0; d < ORDER_DAYS; d++) {
    days.push(new Date((ORDER_DAY0 + d) * 86_400_000).toISOString().slice(0, 10).replace(/-/g, ''));
  }
  return { days, months: [...new Set(days.map((d) => d.slice(0, 6)))] };
}
