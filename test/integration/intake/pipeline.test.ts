/**
 * End to end through the real stack: SQL on MariaDB → Debezium (Kafka Connect) → Kafka →
 * the service → Redis. Keys are written the way the application writes them (values with a
 * TTL); after a row change exactly the affected keys must disappear.
 */
import type Redis from 'ioredis';
import { Partitioners } from 'kafkajs';
import type { RunningService } from '../../../src/app/service';
import { useStack } from '../../support/harness';
import { kafka, sql, stackEnv, uniqId, waitFor } from '../../support/stack';

const DELETE_BOUND_MS = 15_000;

describe('pipeline: MariaDB → Debezium → Kafka → service → Redis', () => {
  const stack = useStack();
  const { db } = stack;
  const [session, cache, temp] = [stack.redis(0), stack.redis(1), stack.redis(2)];
  let service: RunningService;
  const latencies: number[] = [];

  beforeAll(async () => {
    service = await stack.startService();
  });

  stack.cleanup(() => {
    if (latencies.length) {
      const sorted = [...latencies].sort((a, b) => a - b);
      console.log(`commit → key deleted (ms): ${sorted.join(', ')}`);
    }
  });

  const gone =
    (client: Redis, ...keys: string[]) =>
    async () =>
      (await client.exists(...keys)) === 0;
  /** Runs the SQL, then measures until the keys are gone (commit → deletion). */
  async function changeAndWait(
    change: () => Promise<unknown>,
    client: Redis,
    keys: string[],
    what: string,
  ) {
    expect(await client.exists(...keys)).toBe(keys.length); // the keys really were there
    await change();
    const ms = await waitFor(gone(client, ...keys), DELETE_BOUND_MS, what, 5);
    latencies.push(ms);
    return ms;
  }

  it('an UPDATE of brand 1 removes master:brands and brand 1 statistics, not brand 10 or 12', async () => {
    const brand1 = [
      'stats:daily_sales:brand:1',
      'stats:monthly_revenue:brand:1:202401',
      'stats:top:brand:1:20240101',
    ];
    const others = [
      'stats:daily_sales:brand:10',
      'stats:daily_sales:brand:12:20240101',
      'stats:daily_sales:brand:11',
    ];
    await cache.set(
      'master:brands',
      JSON.stringify([{ id: 1, name: '리안', code: 'REAN' }]),
      'EX',
      21600,
    );
    for (const k of [...brand1, ...others]) await cache.set(k, '{"total_amount":1}', 'EX', 43200);
    await session.set('master:brands', 'other-db', 'EX', 600);
    await temp.set('master:brands', 'other-db', 'EX', 600);

    await changeAndWait(
      () =>
        db.query(sql`UPDATE brands SET brand_name = ${`리안 ${Date.now()}`} WHERE brand_id = 1`),
      cache,
      ['master:brands', ...brand1],
      'brand 1 keys to go',
    );
    expect(await cache.exists(...others)).toBe(others.length);
    expect(await session.get('master:brands')).toBe('other-db');
    expect(await temp.get('master:brands')).toBe('other-db');
    await cache.del(...others);
    await session.del('master:brands');
    await temp.del('master:brands');
  });

  it('a new brand (create) and its delete both invalidate', async () => {
    const id = uniqId();
    const code = `T${id}`;
    await cache.set('master:brands', '[]', 'EX', 21600);
    await cache.set(`stats:daily_sales:brand:${id}`, '1', 'EX', 600);
    await changeAndWait(
      () =>
        db.query(
          sql`INSERT INTO brands (brand_id, brand_name, brand_code, sort) VALUES (${id}, '테스트', ${code}, 9)`,
        ),
      cache,
      ['master:brands', `stats:daily_sales:brand:${id}`],
      'create to invalidate',
    );
    await cache.set('master:brands', '[]', 'EX', 21600);
    await changeAndWait(
      () => db.query(sql`DELETE FROM brands WHERE brand_id = ${id}`),
      cache,
      ['master:brands'],
      'delete to invalidate',
    );
  });

  /** Inserts a grant and waits until its own invalidation has passed, so keys can be armed. */
  async function grant(user: number, menu: number) {
    await cache.set(`permissions:user:${user}`, 'sentinel', 'EX', 600);
    await db.query(
      sql`INSERT INTO user_auth (user_id, menu_id, read_yn) VALUES (${user}, ${menu}, 'Y')`,
    );
    await waitFor(gone(cache, `permissions:user:${user}`), DELETE_BOUND_MS, 'the insert event', 5);
  }

  it('a user_auth change removes that user permissions (DB 1) and session (DB 0) only', async () => {
    const user = uniqId();
    const other = user + 1;
    const perms = `permissions:user:${user}`;
    const sess = `session:user:${user}`;
    await grant(user, 1);
    const kept = [
      [cache, `permissions:user:${other}`],
      [session, `session:user:${other}`],
      [session, perms], // the same names in the other DBs must stay
      [cache, sess],
      [temp, perms],
    ] as const;
    for (const [client, key] of kept) await client.set(key, 'keep', 'EX', 600);
    const value = { admin_user: { create: false, read: true, update: false, delete: false } };
    await cache.set(perms, JSON.stringify(value), 'EX', 3600);
    await session.set(sess, JSON.stringify({ user_id: user, username: 'kim' }), 'EX', 86400);

    const started = Date.now();
    await db.query(sql`UPDATE user_auth SET read_yn = 'N' WHERE user_id = ${user} AND menu_id = 1`);
    const bothGone = async () => (await cache.exists(perms)) + (await session.exists(sess)) === 0;
    await waitFor(bothGone, DELETE_BOUND_MS, 'revocation', 5);
    latencies.push(Date.now() - started);

    for (const [client, key] of kept) {
      expect(await client.get(key)).toBe('keep');
      await client.del(key);
    }
    await db.query(sql`DELETE FROM user_auth WHERE user_id = ${user}`);
  });

  it('moving a grant to another user dirties the old and the new user', async () => {
    const from = uniqId();
    const to = from + 7;
    await grant(from, 2);
    const keys = [`permissions:user:${from}`, `permissions:user:${to}`];
    for (const k of keys) await cache.set(k, '{}', 'EX', 3600);
    const sessions = [`session:user:${from}`, `session:user:${to}`];
    for (const k of sessions) await session.set(k, '{}', 'EX', 86400);
    await changeAndWait(
      () => db.query(sql`UPDATE user_auth SET user_id = ${to} WHERE user_id = ${from}`),
      cache,
      keys,
      'both users keys',
    );
    await waitFor(gone(session, ...sessions), DELETE_BOUND_MS, 'both sessions');
    await db.query(sql`DELETE FROM user_auth WHERE user_id = ${to}`);
  });

  it('a malformed message is dead-lettered with its place and the next change is still applied', async () => {
    const prefix = stackEnv('TOPIC_PREFIX');
    const topic = `${prefix}.mis.user_auth`;
    const k = kafka();
    const producer = k.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const before = service.counters.get('rejected', 'ENVELOPE_MALFORMED');
    const marker = `poison-${uniqId()}`;
    const [sent] = await producer.send({ topic, messages: [{ key: marker, value: '{not json' }] });
    await producer.disconnect();
    await waitFor(
      () => service.counters.get('rejected', 'ENVELOPE_MALFORMED') === before + 1,
      DELETE_BOUND_MS,
      'the rejection',
    );

    // The dead-letter topic has the original record with the error and its place in headers.
    const headers = await new Promise<Record<string, string>>((resolve, reject) => {
      const consumer = k.consumer({ groupId: `mcs-test-dlq-${uniqId()}` });
      const timer = setTimeout(
        () => reject(new Error('no dead letter within the bound')),
        DELETE_BOUND_MS,
      );
      void (async () => {
        await consumer.connect();
        await consumer.subscribe({ topic: `${prefix}.mis-cache-sync.dlq`, fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ message }) => {
            if (message.key?.toString() !== marker) return;
            clearTimeout(timer);
            const h = Object.fromEntries(
              Object.entries(message.headers ?? {}).map(([name, v]) => [name, String(v)]),
            );
            expect(message.value?.toString()).toBe('{not json');
            resolve(h);
            void consumer.disconnect();
          },
        });
      })().catch(reject);
    });
    expect(headers).toMatchObject({
      'mcs.error.code': 'ENVELOPE_MALFORMED',
      'mcs.original.topic': topic,
      'mcs.original.partition': String(sent?.partition),
      'mcs.original.offset': sent?.baseOffset,
      'mcs.original.table': 'user_auth',
    });
    expect(headers['mcs.error.message']).toMatch(/value is not JSON/);

    const user = uniqId();
    await cache.set(`permissions:user:${user}`, '{}', 'EX', 3600);
    await changeAndWait(
      () => db.query(sql`INSERT INTO user_auth (user_id, menu_id) VALUES (${user}, 3)`),
      cache,
      [`permissions:user:${user}`],
      'the change after the poison message',
    );
    await db.query(sql`DELETE FROM user_auth WHERE user_id = ${user}`);
  });
});
