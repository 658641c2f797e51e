/**
 * `mis-cache-sync check`: is everything set up the way the service needs? One line per check,
 * ✓ / ✗ (and ! for what works but deserves a look), each ✗ with its fix. The checks come in
 * groups (`CHECK_GROUPS`): Kafka, Kafka Connect, MySQL, Redis. A new group (e.g. the foreign-key
 * graph read from information_schema) is one more entry there.
 */
import type { Kafka } from 'kafkajs';
import { errorMessage } from '../core/errors';
import { topicFor } from '../intake/topics';
import { connectChecks } from './check-connect';
import { deadLettersLine } from './check-dead-letters';
import { freshnessChecks } from './check-freshness';
import { rowIndexChecks } from './check-row-index';
import { withTimeout, type CheckContext, type CheckGroup, type CheckLine } from './check-line';
import { mysqlChecks, redisChecks } from './check-stores';

export type { CheckContext, CheckGroup, CheckLine } from './check-line';

/**
 * The databases whose rows dirty keys hold the topics' one (a configuration where they do not
 * fails before any check runs): else every event would be skipped as foreign.
 */
function watchedLine(config: CheckContext['config']): CheckLine {
  const { topicPrefix, database } = config.kafka;
  return {
    ok: config.rules.databases.includes(database),
    name: "watched databases (MCS_DATABASES) include the topics' database",
    detail: `watched ${config.rules.databases.join(', ')}; topics ${topicPrefix}.${database}.*; others skipped (mis_cache_sync_foreign_db_events_total, mis_cache_sync_skipping_all)`,
  };
}

export const kafkaChecks: CheckGroup = {
  name: 'Kafka',
  async run({ config, rules, kafka }) {
    const brokers = config.kafka.brokers.join(',');
    const admin = kafka().admin();
    let topics: string[];
    try {
      await withTimeout(admin.connect(), 15_000, 'connect');
      topics = await withTimeout(admin.listTopics(), 15_000, 'list topics');
    } catch (err) {
      await admin.disconnect().catch(() => undefined);
      return [
        {
          ok: false,
          name: `Kafka reachable at ${brokers}`,
          detail: errorMessage(err),
          fix: 'start the brokers, or fix KAFKA_BROKERS (and the MCS_KAFKA_SSL / SASL settings)',
        },
      ];
    }
    const out: CheckLine[] = [
      { ok: true, name: `Kafka reachable at ${brokers}`, detail: `${topics.length} topic(s)` },
      watchedLine(config),
    ];
    try {
      const have = new Set(topics);
      const { topicPrefix: prefix, database } = config.kafka;
      for (const table of rules.tables) {
        const topic = topicFor(prefix, database, table);
        const present = have.has(topic);
        out.push({
          ok: present || (config.kafka.ensureTopics ? 'warn' : false),
          name: `change topic ${topic} (table ${table})`,
          detail: present
            ? 'present'
            : config.kafka.ensureTopics
              ? 'missing: the service creates it at start (MCS_ENSURE_TOPICS=true); Debezium writes it on the first change'
              : 'missing',
          ...(present
            ? {}
            : {
                fix: `create it (kafka-topics.sh --create --topic ${topic}) or set MCS_ENSURE_TOPICS=true; check that the connector captures ${database}.${table} (table.include.list)`,
              }),
        });
      }
      const head = `${prefix}.${database}.`;
      const unruled = topics
        .filter(
          (t) =>
            t.startsWith(head) &&
            !rules.get(t.slice(head.length)) &&
            t.slice(head.length) !== config.kafka.signalTable,
        )
        .map((t) => t.slice(head.length));
      out.push({
        ok: unruled.length === 0 ? true : 'warn',
        name: 'tables with change topics but no rule',
        detail:
          unruled.length === 0 ? 'none' : `${unruled.join(', ')} (their changes are not followed)`,
        ...(unruled.length === 0
          ? {}
          : {
              fix: 'if cached keys depend on them, add consumers/<table>.ts; otherwise exclude them in the connector',
            }),
      });
      const sampleFrom = rules.tables
        .map((t) => topicFor(prefix, database, t))
        .filter((t) => have.has(t));
      out.push(await formatLine(kafka(), admin, sampleFrom, config.registry.url));
      out.push(await deadLettersLine(kafka(), config));
    } finally {
      await admin.disconnect();
    }
    return out;
  },
};

type Admin = ReturnType<Kafka['admin']>;

/**
 * Reads the newest records (up to 20) of a change topic and tells the format of the newest that
 * is not a tombstone; tries up to three non-empty topics.
 */
async function formatLine(
  kafka: Kafka,
  admin: Admin,
  topics: readonly string[],
  registryUrl: string,
): Promise<CheckLine> {
  const name = 'change event format (newest change event of a change topic)';
  let tried = 0;
  for (const topic of topics) {
    const p = (await admin.fetchTopicOffsets(topic)).find((o) => BigInt(o.high) > BigInt(o.low));
    if (!p) continue;
    if (++tried > 3) break;
    const high = BigInt(p.high);
    const from = high - 20n > BigInt(p.low) ? high - 20n : BigInt(p.low);
    let found: { value: Buffer; offset: string } | undefined;
    try {
      found = await newestValue({ kafka, topic, partition: p.partition, from, end: high });
    } catch (err) {
      return { ok: 'warn', name, detail: `not checked: ${errorMessage(err)}` };
    } finally {
      await admin.deleteGroups([groupOf(topic)]).catch(() => undefined);
    }
    if (found) {
      const where = `${topic}/${p.partition}@${found.offset}`;
      return describeFormat(found.value, where, name, registryUrl);
    }
  }
  return {
    ok: 'warn',
    name,
    detail: 'no change event yet (or only tombstones): format not checked',
  };
}

const groupOf = (topic: string) => `mis-cache-sync-check-${process.pid}-${topic}`;

/** Where `newestValue` reads: one partition of a topic, offsets `from` up to `end` (exclusive). */
interface NewestValueArgs {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly partition: number;
  /** First offset read. */
  readonly from: bigint;
  /** The partition's high watermark: reading stops at offset `end - 1`. */
  readonly end: bigint;
}

async function newestValue({
  kafka,
  topic,
  partition,
  from,
  end,
}: NewestValueArgs): Promise<{ value: Buffer; offset: string } | undefined> {
  const consumer = kafka.consumer({ groupId: groupOf(topic) });
  let found: { value: Buffer; offset: string } | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition: p, message }) => {
          if (p !== partition) return;
          if (message.value !== null) found = { value: message.value, offset: message.offset };
          if (BigInt(message.offset) >= end - 1n) resolve();
        },
      });
    });
    consumer.seek({ topic, partition, offset: from.toString() });
    await withTimeout(done, 15_000, 'reading change events');
  } finally {
    await consumer.disconnect();
  }
  return found;
}

export function describeFormat(
  value: Buffer | null,
  where: string,
  name: string,
  registryUrl = '',
): CheckLine {
  if (value === null)
    return { ok: 'warn', name, detail: `${where} is a tombstone: format not checked` };
  if (value[0] === 0)
    return registryUrl
      ? {
          ok: true,
          name,
          detail: `${where}: Avro (Confluent wire format), registry ${registryUrl}`,
        }
      : {
          ok: false,
          name,
          detail: `${where}: Avro (Confluent wire format)`,
          fix: "set SCHEMA_REGISTRY_URL to the registry's Confluent-compatible API (docs/deployment.md, Avro)",
        };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch {
    return {
      ok: false,
      name,
      detail: `${where}: neither JSON nor Avro`,
      fix: 'use org.apache.kafka.connect.json.JsonConverter',
    };
  }
  const o = (json ?? {}) as Record<string, unknown>;
  const withSchema = 'schema' in o && 'payload' in o;
  const body = (withSchema ? o.payload : o) as Record<string, unknown> | null;
  const envelope =
    body !== null &&
    typeof body === 'object' &&
    'op' in body &&
    ('before' in body || 'after' in body);
  return envelope
    ? {
        ok: true,
        name,
        detail: `${where}: JSON ${withSchema ? 'with' : 'without'} schemas, full Debezium envelope`,
      }
    : {
        ok: 'warn',
        name,
        detail: `${where}: JSON ${withSchema ? 'with' : 'without'} schemas, flattened (no op/before/after): accepted, the row index supplies the old key columns (docs/rules.md, Row index)`,
      };
}

export const connectGroup: CheckGroup = {
  name: 'Kafka Connect',
  async run({ config }) {
    if (!config.connect.url)
      return [
        {
          ok: 'warn',
          name: 'Kafka Connect',
          detail: 'CONNECT_URL not set: connector checks skipped',
          fix: 'set CONNECT_URL to check the Debezium connector',
        },
      ];
    return connectChecks(config);
  },
};

/** The groups `check` runs, in order. */
export const CHECK_GROUPS: readonly CheckGroup[] = [
  kafkaChecks,
  connectGroup,
  mysqlChecks,
  redisChecks,
  freshnessChecks,
  rowIndexChecks,
];

export async function runChecks(
  ctx: CheckContext,
  groups: readonly CheckGroup[] = CHECK_GROUPS,
): Promise<{ group: string; lines: CheckLine[] }[]> {
  const out = [];
  for (const g of groups) {
    let lines: CheckLine[];
    try {
      lines = await g.run(ctx);
    } catch (err) {
      lines = [{ ok: false, name: g.name, detail: `check failed: ${errorMessage(err)}` }];
    }
    out.push({ group: g.name, lines });
  }
  return out;
}

export function formatCheckLine(l: CheckLine): string {
  const mark = l.ok === true ? '✓' : l.ok === false ? '✗' : '!';
  const fix = l.ok !== true && l.fix ? `\n    fix: ${l.fix}` : '';
  return `${mark} ${l.name}${l.detail ? `: ${l.detail}` : ''}${fix}`;
}
