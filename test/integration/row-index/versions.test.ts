/**
 * Row-index versions that go backwards (src/row-index/storage.ts): `RESET MASTER` or a failover
 * numbers the binlog anew, so a row's later changes carry lower positions than its entry. Fed
 * here as flattened records of one partition in offset order, resolved and written on real Redis
 * (the stack's), as the intake does: the entry must follow the row across the reset, so a move
 * after it dirties the key the row really had. A redelivered older record (an offset already
 * passed) still never overwrites a newer entry.
 */
import type Redis from 'ioredis';
import { createKeyspaceClient } from '../../../src/redis/clients';
import type { ChangeEvent } from '../../../src/envelope/types';
import { buildRowModel } from '../../../src/row-index/model';
import { resolveRows, type RowEvent } from '../../../src/row-index/resolve';
import { RedisRowIndex, indexPrefix } from '../../../src/row-index/storage';
import { silentLogger } from '../../../src/telemetry/logger';
import { PRODUCTS_BRAND_CASCADE, planOptions, shippedRules } from '../../support/rules';
import { redisDb, testConfig, uniq } from '../../support/stack';

const v = (file: number, pos: number) =>
  `p:${String(file).padStart(20, '0')}:${String(pos).padStart(20, '0')}:0000000000`;

describe('row index versions across a binlog reset', () => {
  const config = testConfig();
  const prefix = `t${uniq()}`;
  let raw: Redis;
  let client: ReturnType<typeof createKeyspaceClient>;
  let index: RedisRowIndex;
  const model = buildRowModel(shippedRules, {
    database: 'mis',
    primaryKeys: new Map([['products', ['product_id']]]),
    edges: [],
  });
  const ctx = { ...planOptions(), rules: shippedRules, model, topicPrefix: prefix };

  beforeAll(async () => {
    raw = redisDb(config.redis.rowIndexDb);
    client = createKeyspaceClient(config.redis, config.redis.rowIndexDb, silentLogger());
    await client.ready();
    index = new RedisRowIndex(client.port);
  });
  afterAll(async () => {
    const keys = await raw.keys(`${indexPrefix(`${prefix}.products`).replace(/[{}]/g, '\\$&')}*`);
    if (keys.length > 0) await raw.del(...keys);
    await client.close();
    await raw.quit();
  });

  const flat = (op: 'c' | 'u', category: number): ChangeEvent => ({
    op,
    before: null,
    after: { product_id: 5, category_id: category, brand_id: 1, product_name: 'p' },
    source: {},
    flattened: true,
  });
  const record = (offset: number, event: ChangeEvent, version: string): RowEvent => ({
    place: { topic: `${prefix}.mis.products`, partition: 0, offset: String(offset) },
    table: 'products',
    event,
    key: { product_id: 5 },
    version,
  });
  /** One batch as the intake runs it: resolve, then the index writes; its keys. */
  async function batch(...rows: RowEvent[]): Promise<string[]> {
    const res = await resolveRows(rows, ctx, index);
    await index.write(res.writes);
    return res.ops.map((o) => `${o.action} ${o.key}`).sort();
  }

  it('a move after RESET MASTER dirties the key the row had after the reset', async () => {
    await batch(record(1, flat('c', 1), v(3, 500)));
    // RESET MASTER: the binlog starts again at file 1.
    await batch(record(2, flat('u', 2), v(1, 100)));
    expect(await batch(record(3, flat('u', 3), v(1, 200)))).toEqual([
      'delete master:products:category:2',
      'delete master:products:category:3',
    ]);
    // A redelivered record of an offset already passed changes nothing.
    await batch(record(2, flat('u', 2), v(1, 100)));
    expect(await batch(record(4, flat('u', 4), v(1, 300)))).toEqual([
      'delete master:products:category:3',
      'delete master:products:category:4',
    ]);
  });

  it('a partition switching version kinds (binlog positions → GTIDs) starts a new epoch', async () => {
    const g = (seq: number) => `g:${String(seq).padStart(20, '0')}:0000000000`;
    const other = (offset: number, event: ChangeEvent, version: string): RowEvent => ({
      ...record(offset, event, version),
      key: { product_id: 6 },
      place: { topic: `${prefix}.mis.products`, partition: 1, offset: String(offset) },
      event: { ...event, after: { ...event.after, product_id: 6 } },
    });
    await batch(other(1, flat('c', 11), v(9, 900)));
    await batch(other(2, flat('u', 12), g(40)));
    expect(await batch(other(3, flat('u', 13), g(41)))).toEqual([
      'delete master:products:category:12',
      'delete master:products:category:13',
    ]);
  });

  it('an update leaving the indexed columns as they were keeps the entry, version included', async () => {
    const row = (offset: number, category: number, name: string, version: string): RowEvent => ({
      ...record(offset, flat('u', category), version),
      key: { product_id: 7 },
      place: { topic: `${prefix}.mis.products`, partition: 2, offset: String(offset) },
      event: {
        ...flat('u', category),
        after: { ...flat('u', category).after, product_id: 7, product_name: name },
      },
    });
    const entryKey = `${indexPrefix(`${prefix}.products`)}r:7`;
    await batch(row(1, 21, 'a', v(5, 100)));
    const written = await raw.get(entryKey);
    expect(written).toContain(v(5, 100));
    // product_name is not an indexed column: the entry stays byte for byte
    await batch(row(2, 21, 'b', v(5, 200)), row(3, 21, 'c', v(5, 300)));
    expect(await raw.get(entryKey)).toBe(written);
    // the row's changes read again from offset 1 (a redelivery) end where they were
    await batch(row(1, 21, 'a', v(5, 100)), row(2, 21, 'b', v(5, 200)));
    expect(await raw.get(entryKey)).toBe(written);
    // a change of an indexed column is written, with its version, and dirties the old key
    expect(await batch(row(4, 22, 'c', v(5, 400)))).toEqual([
      'delete master:products:category:21',
      'delete master:products:category:22',
    ]);
    expect(await raw.get(entryKey)).toContain(v(5, 400));
  });

  it('entries of a table a cascade writes to are always rewritten', () => {
    const withCascade = buildRowModel(shippedRules, {
      database: 'mis',
      primaryKeys: new Map([
        ['products', ['product_id']],
        ['brands', ['brand_id']],
      ]),
      edges: [PRODUCTS_BRAND_CASCADE],
    });
    expect(withCascade.indexed.get('products')?.keepsSame).toBe(false);
    expect(model.indexed.get('products')?.keepsSame).toBe(true);
  });
});
