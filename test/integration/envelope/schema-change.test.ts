/**
 * Schema changes while the service runs (on the real stack, JSON or Avro): ALTER TABLE adding a
 * column just works; renaming a column a rule uses dead-letters the events with FIELD_INVALID
 * naming the column (the service keeps running) and, while they wait there, the keys of that
 * target go by its pattern (never stale); after fixing the rule, `replay` from before the
 * rename re-applies them. The test owns a scratch table, a rules folder and a dead-letter topic.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DLQ_HEADERS } from '../../../src/intake/dead-letter';
import { createKafka } from '../../../src/intake/kafka';
import type { ProgressSink } from '../../../src/ops/progress';
import { replay } from '../../../src/ops/replay';
import { createRedisClients } from '../../../src/redis/clients';
import { KeyExecutor } from '../../../src/keys/executor';
import { loadRules } from '../../../src/rules/registry';
import type { RunningService } from '../../../src/app/service';
import { silentLogger } from '../../../src/telemetry/logger';
import { useStack } from '../../support/harness';
import { kafka, sql, testConfig, uniq, waitFor } from '../../support/stack';

const BOUND_MS = 30_000;
const DB = 5; // the test's logical DB for its keys

function ruleFile(dir: string, table: string, column: string): void {
  writeFileSync(
    path.join(dir, `${table}.yaml`),
    `table: ${table}\ntargets:\n  - key: sc:owner:{${column}}\n    family: session\n    action: delete\n`,
  );
}

/** Dead-lettered records of the topic: their error code and message headers. */
interface DeadLetter {
  code: string;
  message: string;
  /** Kafka time of the original record: where a replay starts. */
  timestamp: number;
}

async function deadLetters(topic: string): Promise<DeadLetter[]> {
  const admin = kafka().admin();
  await admin.connect();
  const topics = await admin.listTopics();
  const total = topics.includes(topic)
    ? (await admin.fetchTopicOffsets(topic)).reduce((n, o) => n + Number(o.high), 0)
    : 0;
  await admin.disconnect();
  if (total === 0) return [];
  const groupId = `mcs-test-dlq-${uniq()}`;
  const consumer = kafka().consumer({ groupId });
  const out: DeadLetter[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        out.push({
          code: String(message.headers?.[DLQ_HEADERS.code] ?? ''),
          message: String(message.headers?.[DLQ_HEADERS.message] ?? ''),
          timestamp: Number(String(message.headers?.[DLQ_HEADERS.timestamp] ?? 'NaN')),
        });
        if (out.length >= total) resolve();
      },
    });
  });
  await consumer.disconnect();
  return out;
}

describe('schema changes while running', () => {
  const table = `mis_sc_${uniq()}`.slice(0, 40);
  const dlq = `mis.mcs-test-dlq-${uniq()}`;
  const rulesDir = mkdtempSync(path.join(tmpdir(), 'mcs-rules-'));
  const stack = useStack();
  const { db } = stack;
  const keys = stack.redis(DB);
  let service: RunningService | undefined;

  const config = () =>
    testConfig({
      MCS_CONSUMERS_DIR: rulesDir,
      MCS_REDIS_DB_SESSION: String(DB),
      MCS_DLQ_TOPIC: dlq,
    });

  beforeAll(async () => {
    await db.query(
      sql`CREATE TABLE ${sql.ident(table)} (id INT PRIMARY KEY, owner_id INT NOT NULL, note VARCHAR(20))`,
    );
    ruleFile(rulesDir, table, 'owner_id');
  });
  stack.cleanup(async () => {
    await db.query(sql`DROP TABLE IF EXISTS ${sql.ident(table)}`);
    rmSync(rulesDir, { recursive: true, force: true });
  });

  it('adding a column just works; renaming a ruled column dead-letters FIELD_INVALID; replay after the fix re-applies', async () => {
    service = await stack.startService(config());
    const probe = async (owner: number, change: () => Promise<unknown>) => {
      await keys.set(`sc:owner:${owner}`, 'cached', 'EX', 600);
      await change();
      await waitFor(
        async () => (await keys.exists(`sc:owner:${owner}`)) === 0,
        BOUND_MS,
        `sc:owner:${owner} deleted`,
      );
    };
    await probe(1, () => db.query(sql`INSERT INTO ${sql.ident(table)} VALUES (1, 1, 'a')`));

    // 1. a new column: the next events carry it, the rule does not care
    await db.query(sql`ALTER TABLE ${sql.ident(table)} ADD COLUMN extra VARCHAR(10) NULL`);
    await probe(1, () =>
      db.query(sql`UPDATE ${sql.ident(table)} SET note = 'b', extra = 'x' WHERE id = 1`),
    );
    expect(await deadLetters(dlq)).toEqual([]);

    // 2. the ruled column renamed: dead-lettered with FIELD_INVALID naming it; the key goes by
    //    the target's pattern (sc:owner:*), not left stale while the event waits for the fix
    await db.query(sql`ALTER TABLE ${sql.ident(table)} RENAME COLUMN owner_id TO owner`);
    await keys.set('sc:owner:2', 'cached', 'EX', 600);
    await db.query(sql`UPDATE ${sql.ident(table)} SET owner = 2, note = 'c' WHERE id = 1`);
    let dead: DeadLetter[] = [];
    await waitFor(
      async () => (dead = await deadLetters(dlq)).length > 0,
      BOUND_MS,
      'the event dead-lettered',
      200,
    );
    expect(dead).toHaveLength(1);
    expect(dead[0]?.code).toBe('FIELD_INVALID');
    expect(dead[0]?.message).toContain('"owner_id"');
    expect(dead[0]?.message).toContain('fell back to sc:owner:*');
    await waitFor(
      async () => (await keys.exists('sc:owner:2')) === 0,
      BOUND_MS,
      'sc:owner:2 deleted by the fallback pattern',
    );
    // the service did not crash and the partition moved on: the next event is dead-lettered too
    await keys.set('sc:owner:3', 'cached', 'EX', 600);
    await db.query(sql`INSERT INTO ${sql.ident(table)} (id, owner, note) VALUES (2, 3, 'd')`);
    await waitFor(
      async () => (dead = await deadLetters(dlq)).length === 2,
      BOUND_MS,
      'the second event dead-lettered',
      200,
    );
    expect(dead.map((d) => d.code)).toEqual(['FIELD_INVALID', 'FIELD_INVALID']);
    await service.stop();
    service = undefined;

    // 3. fix the rule, replay from the first dead-lettered record (its original Kafka time,
    //    a header of the dead letter): both events are re-applied
    const firstDead = Math.min(...dead.map((d) => d.timestamp));
    expect(Number.isFinite(firstDead)).toBe(true);
    ruleFile(rulesDir, table, 'owner');
    const fixed = config();
    const rules = loadRules(rulesDir);
    const redis = createRedisClients(fixed.redis, silentLogger());
    try {
      await redis.ready();
      const executor = new KeyExecutor({
        ports: redis.ports,
        options: fixed.redis,
        loader: undefined,
        logger: silentLogger(),
      });
      const quiet: ProgressSink = { update: () => undefined, finish: () => undefined };
      const report = await replay(
        {
          kafka: createKafka(fixed.kafka, silentLogger()),
          config: fixed,
          rules,
          executor,
          logger: silentLogger(),
          progress: quiet,
        },
        { from: new Date(firstDead), tables: [table], dryRun: false, resetGroup: false },
      );
      expect(report.rejected).toBe(0);
      expect(report.events).toBe(2);
      expect(await keys.exists('sc:owner:2', 'sc:owner:3')).toBe(0);
    } finally {
      await redis.close();
    }
  });
});
