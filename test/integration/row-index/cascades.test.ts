/**
 * Foreign-key cascades on the real stack: MariaDB runs ON DELETE CASCADE below the binlog, so
 * the deleted products never reach Debezium. The service reads the FK graph at start and finds
 * the children through the row index: deleting a brand removes the category lists of exactly
 * its products, while a category of another brand's product stays cached.
 */
import { useStack } from '../../support/harness';
import { sql, testConfig, uniqId, waitCaughtUp, waitFor } from '../../support/stack';

const FK = `fk_products_brand_t${uniqId()}`;
const BOUND_MS = 20_000;

describe('foreign-key cascades through the row index', () => {
  const stack = useStack();
  const { db } = stack;
  const brand = uniqId();
  const [p1, p2, p3] = [uniqId(), uniqId(), uniqId()];
  const [c1, c2, c3] = [uniqId(), uniqId(), uniqId()];
  const keys = [c1, c2, c3].map((c) => `master:products:category:${c}`);
  // No second pass: a delayed re-delete would drop the re-armed keys and hide what is tested.
  const config = testConfig({ MCS_SECOND_PASS_DELAY_MS: '0' });
  const [db1, db4] = [stack.redis(1), stack.redis(config.redis.rowIndexDb)];

  beforeAll(async () => {
    // Existing rows need not satisfy the key (other tests insert products of any brand id);
    // the constraint lives only while this file runs.
    await db.task(async (conn) => {
      await conn.query(sql`SET foreign_key_checks = 0`);
      await conn.query(
        sql`ALTER TABLE products ADD CONSTRAINT ${sql.ident(FK)} FOREIGN KEY (brand_id) REFERENCES brands (brand_id) ON DELETE CASCADE`,
      );
      await conn.query(sql`SET foreign_key_checks = 1`); // pooled: cascades need the checks on
    });
    await stack.startService(config);
  });
  stack.cleanup(async () => {
    await db.query(sql`ALTER TABLE products DROP FOREIGN KEY ${sql.ident(FK)}`);
    await db.query(sql`DELETE FROM products WHERE product_id IN (${p1}, ${p2}, ${p3})`);
    await db.query(sql`DELETE FROM brands WHERE brand_id = ${brand}`);
    await db1.del(...keys);
  });

  it('deleting a brand removes the category lists of its products, and only those', async () => {
    await db.query(
      sql`INSERT INTO brands (brand_id, brand_name, brand_code) VALUES (${brand}, 'FK', ${`FK${brand}`})`,
    );
    await db.query(sql`INSERT INTO products (product_id, category_id, brand_id, product_name) VALUES
      (${p1}, ${c1}, ${brand}, 'a'), (${p2}, ${c2}, ${brand}, 'b'), (${p3}, ${c3}, 1, 'c')`);
    // The creates invalidate the lists; once committed, the products are in the row index too
    // (the index is written before the commit).
    for (const k of keys) await db1.set(k, 'cached', 'EX', 600);
    await waitFor(
      async () => (await db1.exists(...keys)) === 0,
      BOUND_MS,
      'the product creates to be applied',
    );
    await waitCaughtUp(config.kafka.groupId, ['mis.mis.products']);
    for (const k of keys) await db1.set(k, 'cached', 'EX', 600);

    await db.query(sql`DELETE FROM brands WHERE brand_id = ${brand}`);
    expect(await db.query(sql`SELECT product_id FROM products WHERE brand_id = ${brand}`)).toEqual(
      [],
    ); // MariaDB cascaded, silently for the binlog

    await waitFor(
      async () => (await db1.exists(keys[0] as string, keys[1] as string)) === 0,
      BOUND_MS,
      'the category lists of the brand products',
    );
    await waitCaughtUp(config.kafka.groupId, ['mis.mis.brands']);
    expect(await db1.get(keys[2] as string)).toBe('cached'); // another brand's product
    // The cascaded children are deleted in the index too (marker, no reverse membership).
    expect(
      JSON.parse((await db4.get(`mcs:rowidx:{mis.products}:r:${p3}`)) ?? 'null'),
    ).toMatchObject({ r: { brand_id: 1, category_id: c3 } });
    const after = JSON.parse((await db4.get(`mcs:rowidx:{mis.products}:r:${p1}`)) ?? 'null');
    expect(after).toMatchObject({ r: null });
    expect(await db4.sismember(`mcs:rowidx:{mis.products}:f:brand_id:${brand}`, String(p1))).toBe(
      0,
    );
  });
});
