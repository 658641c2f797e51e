/**
 * A cascade read from a row-index entry the child's own change has not reached yet
 * (src/row-index/cascades.ts). The child's topic lags the parent's: the product moved from
 * brand A to brand B (its own change, binlog position 200), then brand A was deleted (300, ON
 * DELETE CASCADE: the product, on brand B by then, was not touched by MariaDB). The service reads
 * the brand's delete first and, from the index's stale entry, marks the product deleted. Its own
 * change read next must still be written: a later delete of brand B has to find the product.
 * Fed as envelope records, resolved and written on the stack's Redis, as the intake does.
 */
import type Redis from 'ioredis';
import { createKeyspaceClient } from '../../../src/redis/clients';
import type { ChangeEvent, Row } from '../../../src/envelope/types';
import { buildRowModel } from '../../../src/row-index/model';
import { resolveRows, type RowEvent } from '../../../src/row-index/resolve';
import { RedisRowIndex, indexPrefix } from '../../../src/row-index/storage';
import { silentLogger } from '../../../src/telemetry/logger';
import { PRODUCTS_BRAND_CASCADE, planOptions, shippedRules } from '../../support/rules';
import { redisDb, testConfig, uniq } from '../../support/stack';

const v = (pos: number) =>
  `p:${String(7).padStart(20, '0')}:${String(pos).padStart(20, '0')}:0000000000`;

describe('a cascade read from an entry the child has not caught up with', () => {
  const config = testConfig();
  const prefix = `t${uniq()}`;
  let raw: Redis;
  let client: ReturnType<typeof createKeyspaceClient>;
  let index: RedisRowIndex;
  const model = buildRowModel(shippedRules, {
    database: 'mis',
    primaryKeys: new Map([
      ['products', ['product_id']],
      ['brands', ['brand_id']],
    ]),
    edges: [PRODUCTS_BRAND_CASCADE],
  });
  const ctx = { ...planOptions(), rules: shippedRules, model, topicPrefix: prefix };

  beforeAll(async () => {
    raw = redisDb(config.redis.rowIndexDb);
    client = createKeyspaceClient(config.redis, config.redis.rowIndexDb, silentLogger());
    await client.ready();
    index = new RedisRowIndex(client.port);
  });
  afterAll(async () => {
    for (const t of ['products', 'brands']) {
      const keys = await raw.keys(`${indexPrefix(`${prefix}.${t}`).replace(/[{}]/g, '\\$&')}*`);
      if (keys.length > 0) await raw.del(...keys);
    }
    await client.close();
    await raw.quit();
  });

  const product = (brand: number): Row => ({
    product_id: 51,
    category_id: 9000 + brand,
    brand_id: brand,
    product_name: 'p',
  });
  const brandRow = (id: number): Row => ({
    brand_id: id,
    brand_name: `b${id}`,
    brand_code: `B${id}`,
  });
  const rec = (table: 'products' | 'brands', offset: number, event: ChangeEvent): RowEvent => ({
    place: { topic: `${prefix}.mis.${table}`, partition: 0, offset: String(offset) },
    table,
    event,
    key:
      table === 'products'
        ? { product_id: 51 }
        : { brand_id: (event.before ?? event.after)?.brand_id },
    version: v(Number(offset)),
  });
  const ev = (
    op: ChangeEvent['op'],
    before: Row | null,
    after: Row | null,
    pos: number,
  ): ChangeEvent => ({
    op,
    before,
    after,
    source: { file: 'mariadb-bin.000007', pos, row: 0 },
  });
  /** One batch as the intake runs it: resolve, then the index writes; its keys. */
  async function batch(...rows: RowEvent[]): Promise<string[]> {
    const res = await resolveRows(rows, ctx, index);
    await index.write(res.writes);
    return res.ops.map((o) => `${o.action} ${o.key}`).sort();
  }
  const at = (r: RowEvent, pos: number): RowEvent => ({ ...r, version: v(pos) });

  it("the child's own earlier change, read after the cascade, is kept: a later cascade finds it", async () => {
    // the products table is complete from here on (a truncate), and product 51 is on brand 1
    await batch(at(rec('products', 1, ev('t', null, null, 50)), 50));
    await batch(at(rec('products', 2, ev('c', null, product(1), 100)), 100));
    // brand 1's delete (position 300) is read before the product's move to brand 2 (200)
    await batch(at(rec('brands', 1, ev('d', brandRow(1), null, 300)), 300));
    await batch(at(rec('products', 3, ev('u', product(1), product(2), 200)), 200));
    // brand 2 deleted: MariaDB cascades to product 51; its category list must go
    expect(await batch(at(rec('brands', 2, ev('d', brandRow(2), null, 400)), 400))).toContain(
      'delete master:products:category:9002',
    );
  });
});
