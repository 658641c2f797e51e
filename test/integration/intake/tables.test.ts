/**
 * Every table's rule through the real stack (MariaDB → Debezium → Kafka → service → Redis),
 * with refresh on for master data. Keys are armed the way the application writes them; after the
 * SQL change exactly the rule's keys are gone (or rebuilt), others stay.
 */
import type Redis from 'ioredis';
import { useStack } from '../../support/harness';
import { sql, testConfig, uniqId, waitFor } from '../../support/stack';

const BOUND_MS = 15_000;

describe('every table through the real pipeline', () => {
  const stack = useStack();
  const { db } = stack;
  const [db0, db1] = [stack.redis(0), stack.redis(1)];

  beforeAll(async () => {
    await stack.startService(testConfig({ MCS_REFRESH_FAMILIES: 'master' }));
  });

  const gone =
    (client: Redis, ...keys: string[]) =>
    async () =>
      (await client.exists(...keys)) === 0;
  const arm = async (client: Redis, keys: string[], ttl = 3600) => {
    for (const k of keys) await client.set(k, 'cached', 'EX', ttl);
  };
  /** Inserts a row and waits until its own invalidation (of `probe`) has passed. */
  async function insertSettled(query: ReturnType<typeof sql>, client: Redis, probe: string) {
    await client.set(probe, 'probe', 'EX', 600);
    await db.query(query);
    await waitFor(gone(client, probe), BOUND_MS, `the insert event to clear ${probe}`, 5);
  }

  it('users: disabling a user drops the session (DB 0) and permissions (DB 1) at once', async () => {
    const id = uniqId();
    await insertSettled(
      sql`INSERT INTO users (user_id, username, dept_id) VALUES (${id}, ${`u${id}`}, 2)`,
      db0,
      `session:user:${id}`,
    );
    await arm(db0, [`session:user:${id}`, `session:user:${id + 1}`], 86400);
    await arm(db1, [`permissions:user:${id}`]);
    await db.query(sql`UPDATE users SET use_yn = 'N' WHERE user_id = ${id}`);
    await waitFor(
      async () =>
        (await gone(db0, `session:user:${id}`)()) && (await gone(db1, `permissions:user:${id}`)()),
      BOUND_MS,
      'user keys',
    );
    expect(await db0.exists(`session:user:${id + 1}`)).toBe(1);
    await db0.del(`session:user:${id + 1}`);
  });

  it('users: a primary-key change (delete + create) invalidates the old and the new id', async () => {
    const id = uniqId();
    await insertSettled(
      sql`INSERT INTO users (user_id, username) VALUES (${id}, ${`u${id}`})`,
      db0,
      `session:user:${id}`,
    );
    await arm(db0, [`session:user:${id}`, `session:user:${id + 3}`], 86400);
    await db.query(sql`UPDATE users SET user_id = ${id + 3} WHERE user_id = ${id}`);
    await waitFor(gone(db0, `session:user:${id}`, `session:user:${id + 3}`), BOUND_MS, 'both ids');
    await db.query(sql`DELETE FROM users WHERE user_id = ${id + 3}`);
  });

  it('menus: a code change drops both codes (holders: test/integration/row-index/menu-holders)', async () => {
    const id = uniqId();
    const code = `m${id}`;
    await insertSettled(
      sql`INSERT INTO menus (menu_id, code, name) VALUES (${id}, ${code}, '메뉴')`,
      db1,
      `permissions:menu:${code}`,
    );
    await arm(db1, [`permissions:menu:${code}`, `permissions:menu:${code}x`]);
    await db0.set(`permissions:user:${id}`, 'other-db', 'EX', 600);
    await db.query(sql`UPDATE menus SET code = ${`${code}x`} WHERE menu_id = ${id}`);
    await waitFor(
      gone(db1, `permissions:menu:${code}`, `permissions:menu:${code}x`),
      BOUND_MS,
      'menu keys',
    );
    expect(await db0.get(`permissions:user:${id}`)).toBe('other-db');
    await db0.del(`permissions:user:${id}`);
    await db.query(sql`DELETE FROM menus WHERE menu_id = ${id}`);
  });

  it('departments (YAML rule): the list is rebuilt from MySQL as JSON with the master TTL', async () => {
    const id = uniqId();
    const name = `부서${id}`;
    await db1.set(
      'master:departments',
      JSON.stringify([{ id: 1, name: 'stale', sort: 1 }]),
      'EX',
      21600,
    );
    await db.query(
      sql`INSERT INTO departments (dept_id, dept_name, sort) VALUES (${id}, ${name}, 99)`,
    );
    await waitFor(
      async () => ((await db1.get('master:departments')) ?? '').includes(name),
      BOUND_MS,
      'the rebuilt list',
    );
    const list = JSON.parse((await db1.get('master:departments')) ?? '[]') as Array<{
      id: number;
      name: string;
      sort: number;
    }>;
    const expected = await db.query(
      sql`SELECT dept_id AS id, dept_name AS name, sort FROM departments WHERE use_yn = 'Y' ORDER BY sort, dept_id`,
    );
    expect(list).toEqual(expected);
    expect(await db1.ttl('master:departments')).toBeGreaterThan(21000);
    await db.query(sql`DELETE FROM departments WHERE dept_id = ${id}`);
    await waitFor(
      async () => !((await db1.get('master:departments')) ?? name).includes(name),
      BOUND_MS,
      'the list without it',
    );
  });

  it('products: moving a product rebuilds the old and the new category list', async () => {
    const id = uniqId();
    const [from, to] = [id + 1, id + 2];
    await db1.set(`master:products:category:${from}`, 'stale', 'EX', 600);
    await db.query(
      sql`INSERT INTO products (product_id, category_id, brand_id, product_name) VALUES (${id}, ${from}, 1, '유모차')`,
    );
    await waitFor(
      async () => (await db1.get(`master:products:category:${from}`)) !== 'stale',
      BOUND_MS,
      'category rebuilt',
    );
    expect(JSON.parse((await db1.get(`master:products:category:${from}`)) ?? '[]')).toEqual([
      { id, name: '유모차', brand_id: 1, category_id: from },
    ]);
    await db.query(sql`UPDATE products SET category_id = ${to} WHERE product_id = ${id}`);
    await waitFor(
      async () => (await db1.get(`master:products:category:${from}`)) === '[]',
      BOUND_MS,
      'old category empty',
    );
    await waitFor(
      async () => ((await db1.get(`master:products:category:${to}`)) ?? '').includes('유모차'),
      BOUND_MS,
      'new category',
    );
    await db.query(sql`DELETE FROM products WHERE product_id = ${id}`);
    await db1.del(`master:products:category:${from}`, `master:products:category:${to}`);
  });

  it('trade_orders: an order dirties its day, its month and its brand; a moved order both', async () => {
    const id = uniqId();
    const brand = uniqId();
    const keys = [
      'stats:daily_sales:20240131',
      'stats:monthly_revenue:202401',
      `stats:daily_sales:brand:${brand}`,
      `stats:channel:brand:${brand}:20240131`,
    ];
    const kept = [`stats:daily_sales:brand:${brand + 1}`, 'stats:daily_sales:20240130'];
    await arm(db1, [...keys, ...kept], 43200);
    await db.query(
      sql`INSERT INTO trade_orders (order_id, order_no, order_date, brand_id, channel, amount) VALUES (${id}, ${`T${id}`}, '2024-01-31', ${brand}, '온라인', 12345.67)`,
    );
    await waitFor(gone(db1, ...keys), BOUND_MS, 'order keys');
    expect(await db1.exists(...kept)).toBe(kept.length);
    await arm(db1, [
      'stats:daily_sales:20240131',
      'stats:daily_sales:20240201',
      'stats:monthly_revenue:202402',
    ]);
    await db.query(sql`UPDATE trade_orders SET order_date = '2024-02-01' WHERE order_id = ${id}`);
    await waitFor(
      gone(
        db1,
        'stats:daily_sales:20240131',
        'stats:daily_sales:20240201',
        'stats:monthly_revenue:202402',
      ),
      BOUND_MS,
      'both days',
    );
    await db1.del(...kept);
    await db.query(sql`DELETE FROM trade_orders WHERE order_id = ${id}`);
  });

  it('serials: a serial dirties the count of its brand code and day; truncate drops every count', async () => {
    const code = `C${uniqId()}`;
    const key = `stats:serial_count:${code}:20240315`;
    await arm(db1, [key, `stats:serial_count:${code}:20240316`], 43200);
    await db.query(
      sql`INSERT INTO serials (serial_no, brand_code, product_id, created_date) VALUES (${`S${code}`}, ${code}, 1, '2024-03-15')`,
    );
    await waitFor(gone(db1, key), BOUND_MS, 'serial count');
    expect(await db1.exists(`stats:serial_count:${code}:20240316`)).toBe(1);
    await db.query(sql`TRUNCATE TABLE serials`);
    await waitFor(
      gone(db1, `stats:serial_count:${code}:20240316`),
      BOUND_MS,
      'truncate to drop every count',
    );
  });

  it('brands: refresh on rebuilds master:brands from the table', async () => {
    await db1.set('master:brands', 'stale', 'EX', 600);
    await db.query(sql`UPDATE brands SET brand_name = ${`조이 ${Date.now()}`} WHERE brand_id = 2`);
    await waitFor(
      async () => (await db1.get('master:brands')) !== 'stale',
      BOUND_MS,
      'brands rebuilt',
    );
    const expected = await db.query(
      sql`SELECT brand_id AS id, brand_name AS name, brand_code AS code FROM brands WHERE use_yn = 'Y' ORDER BY sort, brand_id`,
    );
    expect(JSON.parse((await db1.get('master:brands')) ?? '[]')).toEqual(expected);
  });
});
