/**
 * The pipeline on testcontainers: this file's own MariaDB, Redis, Kafka and Connect + Debezium
 * containers (ports 21610-21614), the service in-process. SQL on MariaDB must delete exactly the
 * affected keys: a brand update, a user_auth change, a grant moved to another user, a delete.
 */
import type Redis from 'ioredis';
import type { ConnectionPool } from '@databases/mysql';
import type { RunningService } from '../../src/app/service';
import { mysqlPool, redisDb, sql, startCaughtUp, uniqId, waitFor } from '../support/stack';
import { startContainerStack, type ContainerStack } from './support/containers';

const BOUND_MS = 20_000;

describe('containers: MariaDB → Debezium → Kafka → service → Redis', () => {
  let stack: ContainerStack;
  let db: ConnectionPool;
  let session: Redis;
  let cache: Redis;
  let service: RunningService;

  beforeAll(async () => {
    stack = await startContainerStack(21610);
    stack.applyEnv();
    db = mysqlPool();
    session = redisDb(0);
    cache = redisDb(1);
    service = await startCaughtUp();
  });

  afterAll(async () => {
    await service?.stop();
    await Promise.all([session?.quit(), cache?.quit(), db?.dispose()]);
    await stack?.stop();
  });

  const gone =
    (client: Redis, ...keys: string[]) =>
    async () =>
      (await client.exists(...keys)) === 0;

  it('an UPDATE of brand 1 removes master:brands and brand 1 statistics, not brand 10', async () => {
    const doomed = ['master:brands', 'stats:daily_sales:brand:1', 'stats:top:brand:1:20240101'];
    const kept = 'stats:daily_sales:brand:10';
    for (const k of [...doomed, kept]) await cache.set(k, '{"total_amount":1}', 'EX', 600);
    await session.set('master:brands', 'other-db', 'EX', 600);
    await db.query(sql`UPDATE brands SET brand_name = ${`리안 ${Date.now()}`} WHERE brand_id = 1`);
    await waitFor(gone(cache, ...doomed), BOUND_MS, 'brand 1 keys to go');
    expect(await cache.get(kept)).toBe('{"total_amount":1}');
    expect(await session.get('master:brands')).toBe('other-db');
    await cache.del(kept);
    await session.del('master:brands');
  });

  it('a user_auth change removes that user permissions (DB 1) and session (DB 0) only', async () => {
    const user = uniqId();
    const other = user + 1;
    // the insert's own invalidation passes before the keys are armed
    await cache.set(`permissions:user:${user}`, 'sentinel', 'EX', 600);
    await db.query(sql`INSERT INTO user_auth (user_id, menu_id, read_yn) VALUES (${user}, 1, 'Y')`);
    await waitFor(gone(cache, `permissions:user:${user}`), BOUND_MS, 'the insert event');
    await cache.set(`permissions:user:${user}`, '{"admin_user":{"read":true}}', 'EX', 600);
    await session.set(`session:user:${user}`, '{"user_id":1}', 'EX', 600);
    await cache.set(`permissions:user:${other}`, 'keep', 'EX', 600);
    await session.set(`session:user:${other}`, 'keep', 'EX', 600);

    await db.query(sql`UPDATE user_auth SET read_yn = 'N' WHERE user_id = ${user} AND menu_id = 1`);
    await waitFor(
      async () =>
        (await cache.exists(`permissions:user:${user}`)) +
          (await session.exists(`session:user:${user}`)) ===
        0,
      BOUND_MS,
      'revocation',
    );
    expect(await cache.get(`permissions:user:${other}`)).toBe('keep');
    expect(await session.get(`session:user:${other}`)).toBe('keep');
    await cache.del(`permissions:user:${other}`);
    await session.del(`session:user:${other}`);
    await db.query(sql`DELETE FROM user_auth WHERE user_id = ${user}`);
  });

  it('moving a grant to another user (a key move) dirties the old and the new user', async () => {
    const from = uniqId();
    const to = from + 7;
    await cache.set(`permissions:user:${from}`, 'sentinel', 'EX', 600);
    await db.query(sql`INSERT INTO user_auth (user_id, menu_id, read_yn) VALUES (${from}, 2, 'Y')`);
    await waitFor(gone(cache, `permissions:user:${from}`), BOUND_MS, 'the insert event');
    const keys = [`permissions:user:${from}`, `permissions:user:${to}`];
    for (const k of keys) await cache.set(k, '{}', 'EX', 600);
    await db.query(sql`UPDATE user_auth SET user_id = ${to} WHERE user_id = ${from}`);
    await waitFor(gone(cache, ...keys), BOUND_MS, 'both users keys');
    await db.query(sql`DELETE FROM user_auth WHERE user_id = ${to}`);
  });

  it('a DELETE of a brand invalidates master:brands and its statistics', async () => {
    const id = uniqId();
    await cache.set(`stats:daily_sales:brand:${id}`, 'sentinel', 'EX', 600);
    await db.query(
      sql`INSERT INTO brands (brand_id, brand_name, brand_code, sort) VALUES (${id}, '테스트', ${`T${id}`}, 9)`,
    );
    await waitFor(gone(cache, `stats:daily_sales:brand:${id}`), BOUND_MS, 'the insert event');
    const keys = ['master:brands', `stats:daily_sales:brand:${id}`];
    for (const k of keys) await cache.set(k, '[]', 'EX', 600);
    await db.query(sql`DELETE FROM brands WHERE brand_id = ${id}`);
    await waitFor(gone(cache, ...keys), BOUND_MS, 'delete to invalidate');
  });
});
