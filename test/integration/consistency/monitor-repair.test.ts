/**
 * `monitor --repair` on the real stack: the service and a monitor (every event sampled, windows
 * 3 s, 6 s, 9 s) follow the test's own products rows; after the service invalidated
 * `master:products:category:{c}`, the test plants the old value (a stale set nothing will fix)
 * and, in another category, the correct one. Without repair (the default) the stale key is
 * reported as persisting and left; with repair it is deleted at the window after its first
 * failure and counted in `mis_cache_sync_monitor_repaired_total`; the correct key stays. Master
 * keys in logical DB 14 of their own.
 */
import { Registry } from 'prom-client';
import { ConsistencyMonitor } from '../../../src/consistency/monitor';
import { createKafka } from '../../../src/intake/kafka';
import { createRowLoader, type RowLoader } from '../../../src/mysql/loader';
import { silentLogger } from '../../../src/telemetry/logger';
import { useStack } from '../../support/harness';
import {
  endOffsets,
  sql,
  testConfig,
  uniq,
  uniqId,
  waitCaughtUp,
  waitFor,
} from '../../support/stack';

const LOADER_SQL =
  'SELECT product_id AS id, product_name AS name, brand_id, category_id FROM products ' +
  "WHERE category_id = ? AND use_yn = 'Y' ORDER BY product_id";
const key = (c: number) => `master:products:category:${c}`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('monitor --repair', () => {
  const stack = useStack();
  const cache = stack.redis(14);
  let loader: RowLoader;
  const categories: number[] = [];

  beforeAll(() => {
    const config = testConfig();
    loader = createRowLoader(config.mysql.url);
    stack.cleanup(async () => {
      if (categories.length > 0)
        await stack.db.query(sql`DELETE FROM products WHERE category_id IN (${categories})`);
      await cache.flushdb();
      await loader.close();
    });
  });

  /** One run: service + monitor; a stale and a correct key planted after their invalidation. */
  async function run(repair: boolean) {
    const config = testConfig({
      MCS_REDIS_DB_MASTER: '14',
      MCS_SECOND_PASS_DELAY_MS: '0',
      MCS_MONITOR_SAMPLE: '1',
      MCS_MONITOR_WINDOWS: '3s,6s,9s',
      MCS_MONITOR_GROUP_ID: `mcs-test-monitor-${uniq()}`,
    });
    const service = await stack.startService(config);
    const registry = new Registry();
    const clients = stack.redisClients(config.redis);
    await clients.ready();
    const monitor = new ConsistencyMonitor({
      kafka: createKafka(config.kafka, silentLogger()),
      config,
      rules: service.rules,
      ports: clients.ports,
      loader,
      logger: silentLogger(),
      registry,
      random: () => 0,
      ...(repair ? { repair: true } : {}),
    });
    await monitor.start();
    try {
      const [warm, stale, correct] = [uniqId(), uniqId(), uniqId()];
      categories.push(warm, stale, correct);
      // The monitor reads new events only, from where its first fetch lands: write until it sees one.
      await stack.db.query(
        sql`INSERT INTO products (category_id, brand_id, product_name) VALUES (${warm}, 1, 'warm')`,
      );
      await waitFor(
        async () => {
          await stack.db.query(
            sql`UPDATE products SET product_name = ${`warm ${uniq()}`} WHERE category_id = ${warm}`,
          );
          return monitor.report().sampledEvents > 0;
        },
        30_000,
        'the monitor to fetch',
        500,
      );
      const topic = `${config.kafka.topicPrefix}.${config.kafka.database}.products`;
      // Applied = on the topic (Debezium has produced it) and committed by the service's group.
      const applied = async (write: () => Promise<unknown>, records: number) => {
        const before = await endOffsets(topic);
        await write();
        await waitFor(
          async () => (await endOffsets(topic)) >= before + records,
          30_000,
          `${records} products record(s) on ${topic}`,
          100,
        );
        await waitCaughtUp(config.kafka.groupId, [topic]);
      };
      // The warm-up's last update may still be on its way: counting starts once the topic is quiet.
      await waitFor(
        async () => {
          const end = await endOffsets(topic);
          await sleep(1000);
          return end === (await endOffsets(topic));
        },
        30_000,
        `${topic} to be quiet`,
        0,
      );
      await applied(
        () =>
          stack.db.query(
            sql`INSERT INTO products (category_id, brand_id, product_name) VALUES (${stale}, 1, 'old name'), (${correct}, 1, 'old name')`,
          ),
        2,
      );
      const old = JSON.stringify(await loader.query(LOADER_SQL, [stale]));
      for (const c of [stale, correct])
        await cache.set(key(c), 'cached before the rename', 'EX', 600);
      await applied(
        () =>
          stack.db.query(
            sql`UPDATE products SET product_name = 'new name' WHERE category_id IN (${stale}, ${correct})`,
          ),
        2,
      );
      expect(await cache.exists(key(stale), key(correct))).toBe(0); // the service invalidated both
      await cache.set(key(stale), old, 'EX', 600); // the stale set nothing will fix
      await cache.set(
        key(correct),
        JSON.stringify(await loader.query(LOADER_SQL, [correct])),
        'EX',
        600,
      );
      await waitCaughtUp(config.monitor.groupId, [topic]);
      await sleep(9_500);
      await waitFor(() => monitor.report().pending === 0, 30_000, 'the monitor checks', 100);
      return {
        report: monitor.report(),
        metrics: await registry.metrics(),
        stale: await cache.get(key(stale)),
        correct: await cache.get(key(correct)),
        staleKey: key(stale),
        old,
      };
    } finally {
      await monitor.stop();
      await service.stop();
    }
  }

  it('off by default: the persisting key is reported and left in place', async () => {
    const r = await run(false);
    const found = r.report.inconsistencies.filter((i) => i.key === r.staleKey);
    expect(found.map((i) => [i.window, i.persisting])).toEqual([
      ['3s', false],
      ['6s', true],
      ['9s', true],
    ]);
    expect(r.stale).toBe(r.old);
    expect(r.report.windows.map((w) => w.repaired)).toEqual([0, 0, 0]);
    expect(r.metrics).not.toMatch(/mis_cache_sync_monitor_repaired_total\{/);
  });

  it('with repair: deleted once persisting and counted; the correct key stays', async () => {
    const r = await run(true);
    const found = r.report.inconsistencies.filter((i) => i.key === r.staleKey);
    expect(found.map((i) => [i.window, i.persisting])).toEqual([
      ['3s', false],
      ['6s', true],
    ]);
    expect(r.stale).toBeNull();
    expect(r.correct).not.toBeNull();
    expect(r.report.windows.map((w) => w.repaired)).toEqual([0, 1, 0]);
    expect(r.metrics).toMatch(/mis_cache_sync_monitor_repaired_total\{family="master"\} 1/);
  });
});
