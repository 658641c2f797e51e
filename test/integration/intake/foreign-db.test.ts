/**
 * Foreign databases on the real stack: a `users` change event of another database routed onto
 * this database's topic (as a topic router or a second database in the connector's include list
 * would deliver it) dirties no key, is counted in `foreign_db_events_total` and the stats
 * counters, and is not dead-lettered; a real change of the watched database right after it still
 * invalidates. A run of a thousand such events and nothing else sets `skipping_all`, which the
 * next handled event clears.
 */
import { Partitioners } from 'kafkajs';
import type { RunningService } from '../../../src/app/service';
import { useStack } from '../../support/harness';
import { kafka, sql, testConfig, uniqId, waitFor } from '../../support/stack';

describe('rows of databases not watched', () => {
  const stack = useStack();
  const { db } = stack;
  let service: RunningService;
  const config = testConfig();
  const db0 = stack.redis(config.redis.db.session);
  const db1 = stack.redis(config.redis.db.permissions);

  beforeAll(async () => {
    service = await stack.startService(config);
  });

  it('are skipped and counted, not dead-lettered; the watched database still invalidates', async () => {
    expect(config.rules.databases).toEqual(['mis']); // the default: the database of MYSQL_URL
    // earlier runs left foreign records (and other tests poison records) on the topics: the group
    // read them while catching up, so everything is counted from here
    const seen = service.counters.get('skippedForeignDb', 'mis_foreign');
    const deadLetteredBefore = service.counters.get('deadLettered');
    const rejectedNow = () =>
      Object.entries(service.counters.snapshot()).filter(([k]) => k.startsWith('rejected'));
    const rejectedBefore = rejectedNow();
    const foreignId = uniqId();
    const ownId = foreignId + 1;
    const keys = (id: number) =>
      [
        [db0, `session:user:${id}`],
        [db1, `permissions:user:${id}`],
      ] as const;
    for (const id of [foreignId, ownId])
      for (const [c, k] of keys(id)) await c.set(k, 'cached', 'EX', 600);

    const user = { user_id: foreignId, username: `f${foreignId}`, dept_id: 1, use_yn: 'N' };
    const value = {
      before: { ...user, use_yn: 'Y' },
      after: user,
      source: {
        connector: 'mariadb',
        name: 'mis',
        ts_ms: Date.now(),
        snapshot: 'false',
        db: 'mis_foreign',
        table: 'users',
        file: 'mariadb-bin.000001',
        pos: 4,
      },
      op: 'u',
      ts_ms: Date.now(),
    };
    const producer = kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({
      topic: `${config.kafka.topicPrefix}.mis.users`,
      messages: [{ key: JSON.stringify({ user_id: foreignId }), value: JSON.stringify(value) }],
    });
    await producer.disconnect();
    await db.query(
      sql`INSERT INTO users (user_id, username, use_yn) VALUES (${ownId}, ${`u${ownId}`}, 'N')`,
    );
    try {
      await waitFor(
        async () =>
          service.counters.get('skippedForeignDb', 'mis_foreign') === seen + 1 &&
          (await db0.exists(`session:user:${ownId}`)) === 0,
        20_000,
        'the foreign event to be skipped and the own insert to invalidate',
      );
      for (const [c, k] of keys(foreignId)) expect(await c.exists(k)).toBe(1);
      expect(await db1.exists(`permissions:user:${ownId}`)).toBe(0);
      const metric = await service.metrics.registry.getSingleMetricAsString(
        'mis_cache_sync_foreign_db_events_total',
      );
      expect(metric).toContain(
        `mis_cache_sync_foreign_db_events_total{db="mis_foreign",table="users"} ${seen + 1}`,
      );
      expect(service.counters.get('deadLettered')).toBe(deadLetteredBefore);
      expect(rejectedNow()).toEqual(rejectedBefore);
    } finally {
      const deletes = service.counters.get('events', 'users:d');
      await db.query(sql`DELETE FROM users WHERE user_id = ${ownId}`);
      for (const id of [foreignId, ownId]) for (const [c, k] of keys(id)) await c.del(k);
      // Its change event handled here, not during the next test (where it would end the run of
      // foreign events that test counts on).
      await waitFor(
        async () => service.counters.get('events', 'users:d') > deletes,
        30_000,
        'the clean-up delete handled',
      );
    }
  });

  it('a run of foreign events only says the service skips everything (gauge), until one is handled', async () => {
    const gauge = async () =>
      (await service.metrics.registry.getSingleMetricAsString('mis_cache_sync_skipping_all'))
        .split('\n')
        .find((l) => l.startsWith('mis_cache_sync_skipping_all '));
    expect(await gauge()).toBe('mis_cache_sync_skipping_all 0');
    const seen = service.counters.get('skippedForeignDb', 'mis_foreign');
    const base = uniqId();
    const messages = Array.from({ length: 1000 }, (_, i) => {
      const user = { user_id: base + i, username: `f${base + i}`, dept_id: 1, use_yn: 'N' };
      const value = {
        before: user,
        after: user,
        source: { connector: 'mariadb', name: 'mis', db: 'mis_foreign', table: 'users' },
        op: 'u',
        ts_ms: Date.now(),
      };
      return { key: JSON.stringify({ user_id: base + i }), value: JSON.stringify(value) };
    });
    const producer = kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: `${config.kafka.topicPrefix}.mis.users`, messages });
    await producer.disconnect();
    await waitFor(
      async () => service.counters.get('skippedForeignDb', 'mis_foreign') === seen + 1000,
      30_000,
      'the 1000 foreign events skipped',
    );
    expect(await gauge()).toBe('mis_cache_sync_skipping_all 1');
    // one event of the watched database ends it
    const ownId = base + 1000;
    await db.query(
      sql`INSERT INTO users (user_id, username, use_yn) VALUES (${ownId}, ${`u${ownId}`}, 'N')`,
    );
    try {
      await waitFor(
        async () => (await gauge()) === 'mis_cache_sync_skipping_all 0',
        30_000,
        'the gauge back to 0 after a handled event',
      );
    } finally {
      await db.query(sql`DELETE FROM users WHERE user_id = ${ownId}`);
    }
  }, 90_000);
});
