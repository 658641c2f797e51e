/**
 * Fuzzing the decoder and the rule engine: 10,000+ random and mutated envelopes never crash the
 * batch planner, and every record it cannot handle is reported as rejected. Then a sample goes
 * through the real service: every rejection lands on the dead-letter topic.
 */
import { Partitioners } from 'kafkajs';
import { planBatch } from '../../src/intake/batch-plan';
import type { RawRecord } from '../../src/envelope/types';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readGraph } from '../../src/row-index/open';
import { buildRowModel, rowTablesOf } from '../../src/row-index/model';
import { silentLogger } from '../../src/telemetry/logger';
import { batchContext, shippedRules } from '../support/rules';
import { mulberry32 } from '../support/random';
import {
  createTopicsReady,
  kafka,
  startCaughtUp,
  testConfig,
  uniq,
  waitFor,
} from '../support/stack';

const FIXTURES = ['brands-update.json', 'user_auth-delete.json', 'trade_orders-create.json'].map(
  (f) =>
    JSON.parse(readFileSync(path.resolve(__dirname, '../fixtures/debezium', f), 'utf8')) as {
      value: unknown;
    },
);

const ODD_VALUES: unknown[] = [
  null,
  0,
  -1,
  1.5,
  2 ** 60,
  '',
  '리안',
  '*',
  '[',
  '\\',
  true,
  [],
  {},
  { a: [1] },
  'x'.repeat(300),
];

function mutate(value: unknown, rand: () => number, depth = 0): unknown {
  if (value === null || typeof value !== 'object') {
    return rand() < 0.03 ? ODD_VALUES[Math.floor(rand() * ODD_VALUES.length)] : value;
  }
  if (Array.isArray(value)) return value.map((v) => mutate(v, rand, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const r = rand();
    if (r < 0.01) continue; // drop a field
    if (r < 0.1)
      out[`${k}_x`] = v; // rename it
    else out[k] = depth < 6 ? mutate(v, rand, depth + 1) : v;
  }
  if (rand() < 0.02) out.extra = ODD_VALUES[Math.floor(rand() * ODD_VALUES.length)];
  return out;
}

function fuzzValue(rand: () => number): Buffer | null {
  const r = rand();
  if (r < 0.05) return null; // tombstone
  if (r < 0.15)
    return Buffer.from(
      Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)),
    );
  const base = FIXTURES[Math.floor(rand() * FIXTURES.length)]?.value;
  const text = JSON.stringify(mutate(base, rand));
  if (r < 0.25) return Buffer.from(text.slice(0, Math.floor(rand() * text.length))); // truncated JSON
  return Buffer.from(text);
}

function records(n: number, seed: number, topic = 'mis.mis.brands'): RawRecord[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => ({
    topic,
    partition: 0,
    offset: String(i),
    key: null,
    value: fuzzValue(rand),
  }));
}

describe('fuzz', () => {
  const ctx = batchContext({
    // as the service plans: rows of other databases are skipped before they could be rejected
    databases: new Set(['mis']),
    maxMessageBytes: 4096,
  });

  it('12,000 random and mutated envelopes: no crash, every record handled, skipped or rejected', () => {
    let handled = 0;
    let rejected = 0;
    let tombstones = 0;
    let foreign = 0;
    const codes: Record<string, number> = {};
    for (let seed = 1; seed <= 12; seed++) {
      const batch = records(1000, seed);
      const plan = planBatch(batch, ctx); // must not throw
      expect(
        plan.handled.length + plan.rejected.length + plan.tombstones + plan.foreign.length,
      ).toBe(batch.length);
      for (const r of plan.rejected) {
        expect(r.error.retryable).toBe(false);
        codes[r.error.code] = (codes[r.error.code] ?? 0) + 1;
      }
      handled += plan.handled.length;
      rejected += plan.rejected.length;
      tombstones += plan.tombstones;
      foreign += plan.foreign.length;
    }
    console.log(
      `FUZZ planner: 12000 records, handled=${handled}, rejected=${rejected}, tombstones=${tombstones}, other databases=${foreign}, codes=${JSON.stringify(codes)}`,
    );
    expect(rejected).toBeGreaterThan(1000);
    expect(handled).toBeGreaterThan(1000);
  });

  it('through the real service, every rejected record is on the dead-letter topic', async () => {
    const prefix = `fuzz${uniq()}`;
    const topic = `${prefix}.mis.brands`;
    const dlq = `${prefix}.mis-cache-sync.dlq`;
    const k = kafka();
    const admin = k.admin();
    await admin.connect();
    await createTopicsReady(admin, [{ topic, numPartitions: 2 }, { topic: dlq }]);
    const producer = k.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    // Keys that are neither JSON nor Avro: a tombstone alone of a row-index table is rejected.
    const batch = records(2000, 99, topic).map((r) => ({ ...r, key: Buffer.from(`k${r.offset}`) }));
    // Same records through the planner, with the service's row-index tables, to know how many
    // rejections to expect.
    const config = testConfig({ TOPIC_PREFIX: prefix });
    const rowTables = rowTablesOf(
      buildRowModel(shippedRules, await readGraph(config, silentLogger())),
    );
    const planCtx = { ...ctx, topicPrefix: prefix, maxMessageBytes: 1_048_576, rowTables };
    const expected = planBatch(batch, planCtx).rejected.length;
    for (let i = 0; i < batch.length; i += 500) {
      await producer.send({
        topic,
        messages: batch.slice(i, i + 500).map((r) => ({ key: r.key, value: r.value })),
      });
    }
    await producer.disconnect();

    const service = await startCaughtUp(
      testConfig({
        TOPIC_PREFIX: prefix,
        MCS_ENSURE_TOPICS: 'true',
        MCS_SECOND_PASS_DELAY_MS: '0',
        LOG_LEVEL: 'error',
      }),
    );
    try {
      await waitFor(
        () => service.counters.get('deadLettered') >= expected,
        60_000,
        `${expected} dead letters`,
      );
      const rejected = Object.entries(service.counters.snapshot())
        .filter(([name]) => name.startsWith('rejected{'))
        .reduce((sum, [, n]) => sum + n, 0);
      const offsets = await admin.fetchTopicOffsets(dlq);
      const onTopic = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
      console.log(
        `FUZZ service: 2000 records, rejected=${rejected}, dead-lettered=${service.counters.get('deadLettered')}, on ${dlq}=${onTopic}`,
      );
      expect(rejected).toBe(expected);
      expect(service.counters.get('deadLettered')).toBe(expected);
      expect(onTopic).toBe(expected);
    } finally {
      await service.stop();
      await admin.deleteTopics({ topics: [topic, dlq] }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});
