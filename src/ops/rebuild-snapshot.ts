/**
 * `rebuild --table <t> [--where <cond>] --snapshot`: repair one table's keys through Debezium's
 * own incremental snapshot. The command inserts an `execute-snapshot` signal into the signal
 * table (`MCS_SIGNAL_TABLE`), follows the snapshot's notifications (sink channel,
 * `MCS_NOTIFICATION_TOPIC`) for its progress, and reads the snapshot's `r` rows from the
 * table's change topic itself.
 *
 * Each row is planned with the table's rule as a change would be; every key it maps to that
 * exists in Redis is judged against the truth (`judgeKey`, the judge of `verify` and the
 * monitor) and deleted only when it differs. A snapshot never becomes a mass invalidation, and
 * the service's intake keeps ignoring snapshot rows (`MCS_SNAPSHOT_INVALIDATES`).
 *
 * Reading starts at the end offsets taken before the signal, so no row of this snapshot is
 * missed; the read ends once the snapshot's COMPLETED (or ABORTED) notification came and the
 * change topic was read up to its ends taken then (notification and rows travel on different
 * topics, so neither order is assumed).
 */
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { Registry } from 'prom-client';
import { Counter } from 'prom-client';
import type { Config } from '../config/config';
import type { Family } from '../core/families';
import { SyncError, errorMessage } from '../core/errors';
import { decodeRecord } from '../envelope/decode';
import type { ChangeEvent } from '../envelope/types';
import { judgeKey } from '../consistency/verify';
import { CacheTruth } from '../consistency/truth';
import type { RowLoader } from '../mysql/loader';
import type { SignalRow } from '../mysql/signal';
import type { RedisPort } from '../redis/port';
import { KeyMatcher } from '../rules/match';
import { planEvent } from '../rules/plan';
import type { RuleSet } from '../rules/registry';
import { topicFor } from '../intake/topics';
import type { Logger } from '../telemetry/logger';
import type { ProgressSink } from './progress';

export type SignalWriter = (row: SignalRow) => Promise<void>;

export interface SnapshotFamilyCounts {
  /** Keys that existed and were judged. */
  checked: number;
  /** Judged stale and deleted. */
  repaired: number;
  /** Existed but could not be judged (unreadable value, no truth, rewritten meanwhile). */
  unjudged: number;
}

export interface SnapshotRepairReport {
  readonly id: string;
  readonly table: string;
  /** Rows the snapshot read (its `r` events for the table). */
  rows: number;
  /** Rows the table had when the snapshot was asked for (the progress total). */
  readonly expected: number;
  /** Records of the change topic that could not be decoded (logged with their place). */
  undecodable: number;
  /** COMPLETED, ABORTED, or TIMED_OUT when no final notification came in time. */
  status: string;
  readonly families: Partial<Record<Family, SnapshotFamilyCounts>>;
}

export interface SnapshotRepairDeps {
  readonly config: Config;
  readonly rules: RuleSet;
  readonly ports: Readonly<Record<Family, RedisPort>>;
  readonly loader: RowLoader;
  readonly kafka: Kafka;
  /** Inserts the signal row (src/mysql/signal.ts `writeSignal`, bound to the MySQL URL). */
  readonly signal: SignalWriter;
  readonly logger: Logger;
  readonly progress?: ProgressSink;
  /** Where the snapshot's counters go (`mis_cache_sync_snapshot_*`). */
  readonly registry?: Registry;
}

export interface SnapshotRepairOptions {
  readonly table: string;
  /** SQL condition on the table (Debezium's `additional-conditions` filter). */
  readonly where?: string;
  /** Gives up (status TIMED_OUT) when the snapshot has not completed by then. */
  readonly timeoutMs: number;
}

/** Keys a pattern target of one row may stand for, judged at most this many per pattern. */
const PATTERN_KEYS_MAX = 1000;

export async function snapshotRepair(
  deps: SnapshotRepairDeps,
  options: SnapshotRepairOptions,
): Promise<SnapshotRepairReport> {
  const { config, rules, loader } = deps;
  const rule = rules.get(options.table);
  if (!rule) {
    throw new SyncError(
      'CONFIG_INVALID',
      `--table ${options.table}: no rule for it in ${rules.dir} (tables: ${rules.tables.join(', ')})`,
    );
  }
  const { database, topicPrefix, notificationTopic, signalTable } = config.kafka;
  const changeTopic = topicFor(topicPrefix, database, options.table);
  const where = options.where?.trim() || undefined;
  const [count] = await loader.query(
    `SELECT COUNT(*) AS n FROM \`${options.table}\`${where ? ` WHERE ${where}` : ''}`,
    [],
  );
  const id = `mcs-rebuild-${randomUUID()}`;
  const report: SnapshotRepairReport = {
    id,
    table: options.table,
    rows: 0,
    expected: Number(count?.n ?? 0),
    undecodable: 0,
    status: 'TIMED_OUT',
    families: {},
  };
  const metrics = deps.registry ? snapshotMetrics(deps.registry) : undefined;
  const matcher = new KeyMatcher(rules);
  const truth = new CacheTruth(loader, matcher);
  const judged = new Set<string>();
  const zones = { business: config.time.zone, database: config.time.databaseZone };
  const log = deps.logger.child({ component: 'rebuild-snapshot', id, table: options.table });

  const judge = async (family: Family, key: string): Promise<void> => {
    const id = `${family}\u0000${key}`;
    if (judged.has(id)) return;
    judged.add(id);
    const verdict = await judgeKey({ deps, matcher, family, key, truth });
    if (verdict.kind === 'absent' || verdict.kind === 'unknown') return;
    const counts = (report.families[family] ??= { checked: 0, repaired: 0, unjudged: 0 });
    counts.checked += 1;
    metrics?.checked.inc({ family });
    if (verdict.kind === 'stale') {
      await deps.ports[family].unlink([key]);
      counts.repaired += 1;
      metrics?.repaired.inc({ family });
      log.info({ family, key, why: verdict.why }, 'snapshot repair: stale key deleted');
    } else if (verdict.kind !== 'consistent') counts.unjudged += 1;
  };

  const onRow = async (event: ChangeEvent): Promise<void> => {
    report.rows += 1;
    metrics?.rows.inc();
    const ops = planEvent(event, rule, {
      snapshotInvalidates: true,
      refreshFamilies: new Set(),
      zones,
    });
    for (const op of ops) {
      if (op.action !== 'pattern-delete') await judge(op.family, op.key);
      else
        for (const key of await scanKeys(deps.ports[op.family], op.key))
          await judge(op.family, key);
    }
  };

  const admin = deps.kafka.admin();
  await admin.connect();
  const consumer = deps.kafka.consumer({
    groupId: `${config.kafka.groupId}-snapshot-${id.slice(-12)}`,
    sessionTimeout: config.kafka.sessionTimeoutMs,
  });
  try {
    const starts = await endsOf(admin, [changeTopic, notificationTopic]);
    let finalEnds: Map<string, bigint> | undefined;
    const positions = new Map<string, bigint>(starts);
    let failed: unknown;
    const caughtUp = () =>
      finalEnds !== undefined &&
      [...finalEnds].every(([k, end]) => (positions.get(k) ?? 0n) >= end);

    const handle = async (topic: string, partition: number, m: KafkaMessage): Promise<void> => {
      const place = { topic, partition, offset: m.offset };
      if (topic === notificationTopic) {
        const n = notificationOf(m.value);
        if (n?.id !== id) return;
        deps.progress?.update(report.rows, report.expected, `${n.type} ${options.table}`);
        log.info({ type: n.type, data: n.additional }, 'snapshot notification');
        if (n.type === 'COMPLETED' || n.type === 'ABORTED') {
          report.status = n.type;
          finalEnds = await endsOf(admin, [changeTopic]);
        }
        return;
      }
      let decoded;
      try {
        decoded = decodeRecord({ ...place, key: m.key, value: m.value });
      } catch (err) {
        // Bad input is named by its place and skipped: the rest of the snapshot still counts.
        report.undecodable += 1;
        log.warn({ ...place, error: errorMessage(err) }, 'snapshot row not decodable: skipped');
        return;
      }
      if (decoded.kind !== 'change') return;
      const { event } = decoded;
      if (event.op !== 'r' || event.source.snapshot !== 'incremental') return;
      await onRow(event);
      deps.progress?.update(report.rows, report.expected, `rows of ${options.table}`);
    };

    await consumer.connect();
    await consumer.subscribe({ topics: [changeTopic, notificationTopic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        if (failed !== undefined) return;
        try {
          for (const m of batch.messages) {
            await handle(batch.topic, batch.partition, m);
            positions.set(`${batch.topic}:${batch.partition}`, BigInt(m.offset) + 1n);
            await heartbeat();
          }
        } catch (err) {
          failed = err;
        }
      },
    });
    for (const [k, offset] of starts) {
      const cut = k.lastIndexOf(':');
      consumer.seek({
        topic: k.slice(0, cut),
        partition: Number(k.slice(cut + 1)),
        offset: offset.toString(),
      });
    }
    await sendSignal(deps.signal, `${database}.${options.table}`, {
      id,
      database,
      signalTable,
      where,
    });
    log.info({ where }, 'incremental snapshot requested');
    const deadline = Date.now() + options.timeoutMs;
    while (failed === undefined && !caughtUp() && Date.now() < deadline) await sleep(100);
    if (failed !== undefined) throw failed;
    if (!caughtUp()) report.status = 'TIMED_OUT';
    deps.progress?.finish(report.rows, report.expected, `${report.status} ${options.table}`);
    return report;
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await admin
      .deleteGroups([`${config.kafka.groupId}-snapshot-${id.slice(-12)}`])
      .catch(() => undefined);
    await admin.disconnect();
  }
}

interface SignalPlace {
  readonly id: string;
  readonly database: string;
  readonly signalTable: string;
  readonly where: string | undefined;
}

/** Debezium's execute-snapshot signal for one table, optionally filtered. */
export function snapshotSignal(collection: string, where: string | undefined): string {
  return JSON.stringify({
    'data-collections': [collection],
    type: 'incremental',
    ...(where
      ? { 'additional-conditions': [{ 'data-collection': collection, filter: where }] }
      : {}),
  });
}

async function sendSignal(signal: SignalWriter, collection: string, p: SignalPlace): Promise<void> {
  try {
    await signal({
      database: p.database,
      table: p.signalTable,
      id: p.id,
      type: 'execute-snapshot',
      data: snapshotSignal(collection, p.where),
    });
  } catch (err) {
    throw new SyncError(
      'CONFIG_INVALID',
      `signal table ${p.database}.${p.signalTable} (MCS_SIGNAL_TABLE): the signal could not be written: ${errorMessage(err)}; the connector needs signal.data.collection=${p.database}.${p.signalTable} and the service's MySQL user INSERT on it`,
      { cause: err },
    );
  }
}

interface Notification {
  readonly id: string;
  readonly type: string;
  readonly additional: unknown;
}

/** A sink-channel notification value (JSON, with or without the schema wrapper). */
export function notificationOf(value: Buffer | null): Notification | undefined {
  if (!value) return undefined;
  try {
    const json = JSON.parse(value.toString('utf8')) as Record<string, unknown>;
    const body = ('payload' in json ? json.payload : json) as Record<string, unknown> | null;
    if (!body || typeof body.id !== 'string' || typeof body.type !== 'string') return undefined;
    return { id: body.id, type: body.type, additional: body.additional_data };
  } catch {
    return undefined;
  }
}

async function endsOf(
  admin: ReturnType<Kafka['admin']>,
  topics: readonly string[],
): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for (const topic of topics) {
    for (const p of await admin.fetchTopicOffsets(topic))
      out.set(`${topic}:${p.partition}`, BigInt(p.high));
  }
  return out;
}

async function scanKeys(port: RedisPort, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  for (const node of port.scanNodes()) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, pattern, 500);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0' && keys.length < PATTERN_KEYS_MAX);
  }
  return keys.slice(0, PATTERN_KEYS_MAX);
}

function snapshotMetrics(registry: Registry) {
  const p = 'mis_cache_sync_snapshot_';
  const existing = (name: string) => registry.getSingleMetric(`${p}${name}`);
  return {
    rows: (existing('rows_total') ??
      new Counter({
        name: `${p}rows_total`,
        help: 'Rows of incremental snapshots read by rebuild --snapshot.',
        registers: [registry],
      })) as Counter,
    checked: (existing('keys_checked_total') ??
      new Counter({
        name: `${p}keys_checked_total`,
        help: 'Cached keys of snapshot rows judged against the truth, by family.',
        labelNames: ['family'],
        registers: [registry],
      })) as Counter<'family'>,
    repaired: (existing('keys_repaired_total') ??
      new Counter({
        name: `${p}keys_repaired_total`,
        help: 'Cached keys of snapshot rows found stale and deleted, by family.',
        labelNames: ['family'],
        registers: [registry],
      })) as Counter<'family'>,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
