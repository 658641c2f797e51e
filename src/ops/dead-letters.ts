/**
 * Dead letters an operator can act on (RDI's `get-rejected` is the model).
 *
 * - `list`: every record of the dead-letter topic with its origin (topic/partition/offset),
 *   table, reason code and message, filtered by time, code and table; records already redriven
 *   are marked.
 * - `redrive`: re-applies the pending dead letters through today's rules, with the service's
 *   guarantee: a record counts as done only after Redis acknowledged its operations. Progress is
 *   the committed offset of the group `<MCS_GROUP_ID>-dlq-redrive` on the dead-letter topic (set
 *   through the admin API, only after the acknowledgement). A record that still fails is sent
 *   to the dead-letter topic again with its new reason before its offset is passed, so it stays
 *   pending and nothing is lost; the report names it and why.
 */
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { Config } from '../config/config';
import type { RawRecord, RecordPlace } from '../envelope/types';
import { SyncError, errorMessage, isSyncError } from '../core/errors';
import { batchContext, planBatch, type Rejected } from '../intake/batch-plan';
import { DLQ_HEADERS, DeadLetterQueue } from '../intake/dead-letter';
import { redriveGroup } from '../intake/dead-letters-pending';
import { readRanges, type TopicRange } from '../intake/topic-reader';
import type { KeyExecutor } from '../keys/executor';
import { mergeOp, type KeyOp } from '../rules/ops';
import { patternOps } from '../row-index/fallback';
import type { RuleSet } from '../rules/registry';
import type { Logger } from '../telemetry/logger';

export interface DeadLetter {
  /** Where it sits on the dead-letter topic. */
  readonly dlq: RecordPlace;
  /** Where the event came from. */
  readonly origin: RecordPlace;
  readonly table: string;
  readonly code: string;
  readonly message: string;
  /** When it was dead-lettered (Kafka append time of the dead-letter record). */
  readonly at: Date;
  /** Already passed by a redrive. */
  readonly redriven: boolean;
  /** The value was too large and was not kept: redrive drops its table's families instead. */
  readonly dropped: boolean;
  /** The original event, as the service read it. */
  readonly record: RawRecord;
}

export interface ListFilter {
  readonly since?: Date;
  readonly reason?: string;
  readonly table?: string;
}

export interface DeadLetterDeps {
  readonly kafka: Kafka;
  readonly config: Config;
  readonly logger: Logger;
}

export { redriveGroup };

export async function listDeadLetters(
  deps: DeadLetterDeps,
  filter: ListFilter = {},
): Promise<DeadLetter[]> {
  const out: DeadLetter[] = [];
  await readDeadLetters(deps, 'all', async (letters) => {
    for (const l of letters) if (matches(l, filter)) out.push(l);
  });
  return out;
}

function matches(l: DeadLetter, f: ListFilter): boolean {
  return (
    (f.since === undefined || l.at.getTime() >= f.since.getTime()) &&
    (f.reason === undefined || l.code === f.reason) &&
    (f.table === undefined || l.table === f.table)
  );
}

export interface RedriveDeps extends DeadLetterDeps {
  readonly rules: RuleSet;
  /** Needed unless dry-run. */
  readonly executor?: KeyExecutor;
  /** Sends records that still fail back to the dead-letter topic; needed unless dry-run. */
  readonly deadLetters?: DeadLetterQueue;
}

export interface StillFailing {
  readonly letter: DeadLetter;
  readonly code: string;
  readonly message: string;
}

export interface RedriveReport {
  /** Pending dead letters read. */
  readonly read: number;
  /** Re-applied (Redis acknowledged; offsets passed), or would be in a dry run. */
  readonly applied: number;
  readonly stillFailing: readonly StillFailing[];
  /** Distinct operations (the planned ones in a dry run). */
  readonly operations: readonly KeyOp[];
  readonly deleted: number;
  readonly refreshed: number;
}

export async function redrive(
  deps: RedriveDeps,
  options: { readonly dryRun: boolean },
): Promise<RedriveReport> {
  const { config, rules, executor, deadLetters } = deps;
  if (!options.dryRun && (!executor || !deadLetters))
    throw new Error('redrive needs an executor and the dead-letter producer unless dry-run');
  const ctx = batchContext(config, rules);
  const planned = new Map<string, KeyOp>();
  const stillFailing: StillFailing[] = [];
  let read = 0;
  let applied = 0;
  let deleted = 0;
  let refreshed = 0;
  const admin = deps.kafka.admin();
  await admin.connect();
  try {
    await readDeadLetters(deps, 'pending', async (letters, partition, nextOffset) => {
      read += letters.length;
      const plan = planBatch(
        letters.filter((l) => !l.dropped).map((l) => l.record),
        ctx,
      );
      // A reference copy (value too large, not kept) cannot be planned again: its table's key
      // families go as patterns instead, as the intake did when it read the event.
      const fallback: KeyOp[] = [];
      for (const l of letters.filter((x) => x.dropped)) {
        const rule = rules.get(l.table);
        if (rule) fallback.push(...patternOps(rule, {}));
        else
          stillFailing.push({
            letter: l,
            code: l.code,
            message:
              'the value was too large and was not kept, and its table has no rule: replay it',
          });
      }
      const ops = new Map<string, KeyOp>();
      for (const op of [...plan.ops, ...fallback]) mergeOp(ops, op);
      const planOps = [...ops.values()];
      const failedPlaces = new Map<string, Rejected>(
        plan.rejected.map((r) => [placeId(r.place), r]),
      );
      for (const l of letters) {
        const r = failedPlaces.get(placeId(l.record));
        if (r) stillFailing.push({ letter: l, code: r.error.code, message: r.error.message });
      }
      applied += letters.length - stillFailing.filter((f) => letters.includes(f.letter)).length;
      for (const op of planOps) mergeOp(planned, op);
      if (options.dryRun) return;
      if (planOps.length > 0 && executor) {
        const result = await applyWithRetry(executor, planOps);
        deleted += result.deleted;
        refreshed += result.refreshed;
      }
      // Still failing: back on the topic (new reason) before the offset passes it.
      await deadLetters?.send(plan.rejected);
      await admin.setOffsets({
        groupId: redriveGroup(config),
        topic: config.kafka.deadLetterTopic,
        partitions: [{ partition, offset: nextOffset }],
      });
    });
  } finally {
    await admin.disconnect();
  }
  return {
    read,
    applied,
    stillFailing,
    operations: [...planned.values()],
    deleted,
    refreshed,
  };
}

function placeId(p: RecordPlace): string {
  return `${p.topic}\u0000${p.partition}\u0000${p.offset}`;
}

/** A partition of the dead-letter topic to read. */
interface Range extends TopicRange {
  /** First offset not yet redriven. */
  readonly committed: bigint;
}

/**
 * Reads the dead-letter topic from the earliest record ('all') or from the redrive group's
 * committed offsets ('pending') up to the end it had when the read began, one batch at a time,
 * with a one-off consumer group (deleted afterwards). `onBatch` gets each partition batch and the
 * offset after it; a failing one ends the read (a redrive must not send a record back twice).
 */
async function readDeadLetters(
  deps: DeadLetterDeps,
  from: 'all' | 'pending',
  onBatch: (letters: DeadLetter[], partition: number, nextOffset: string) => Promise<void>,
): Promise<void> {
  const { kafka, config } = deps;
  const topic = config.kafka.deadLetterTopic;
  const admin = kafka.admin();
  await admin.connect();
  let ranges: Range[];
  const oneOff = `${config.kafka.groupId}-dlq-read-${Date.now().toString(36)}`;
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) return; // nothing was ever dead-lettered
    const ends = await admin.fetchTopicOffsets(topic);
    const [done] = await admin.fetchOffsets({ groupId: redriveGroup(config), topics: [topic] });
    ranges = ends.map((e) => {
      const low = BigInt(e.low);
      const c = done?.partitions.find((p) => p.partition === e.partition)?.offset;
      const committed = c === undefined || BigInt(c) < low ? low : BigInt(c);
      return {
        topic,
        partition: e.partition,
        start: from === 'all' ? low : committed,
        end: BigInt(e.high),
        committed,
      };
    });
  } catch (err) {
    await admin.disconnect();
    throw new SyncError('KAFKA_UNAVAILABLE', `dead-letter topic ${topic}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  if (!ranges.some((r) => r.end > r.start)) {
    await admin.disconnect();
    return;
  }
  try {
    await readRanges({
      kafka,
      groupId: oneOff,
      sessionTimeoutMs: config.kafka.sessionTimeoutMs,
      ranges,
      retryFailedBatch: false,
      onBatch: async ({ range, messages }) => {
        const lastKept = messages[messages.length - 1];
        if (!lastKept) return;
        await onBatch(
          messages.map((m) => toLetter(topic, range.partition, m, range.committed)),
          range.partition,
          (BigInt(lastKept.offset) + 1n).toString(),
        );
      },
    });
  } finally {
    await admin.deleteGroups([oneOff]).catch(() => undefined);
    await admin.disconnect();
  }
}

function header(m: KafkaMessage, name: string): string | undefined {
  const v = m.headers?.[name];
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : one.toString();
}

function toLetter(
  topic: string,
  partition: number,
  m: KafkaMessage,
  committed: bigint,
): DeadLetter {
  const origin: RecordPlace = {
    topic: header(m, DLQ_HEADERS.topic) ?? '?',
    partition: Number(header(m, DLQ_HEADERS.partition) ?? -1),
    offset: header(m, DLQ_HEADERS.offset) ?? '?',
  };
  // The original record's own headers, without the ones the dead-letter queue added.
  const ours = new Set<string>(Object.values(DLQ_HEADERS));
  const headers: Record<string, Buffer | string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    const one = Array.isArray(v) ? v[0] : v;
    if (!ours.has(k) && one !== undefined) headers[k] = one;
  }
  const originalTs = header(m, DLQ_HEADERS.timestamp);
  return {
    dlq: { topic, partition, offset: m.offset },
    origin,
    table: header(m, DLQ_HEADERS.table) ?? '',
    code: header(m, DLQ_HEADERS.code) ?? '?',
    message: header(m, DLQ_HEADERS.message) ?? '',
    at: new Date(Number(m.timestamp)),
    redriven: BigInt(m.offset) < committed,
    dropped: header(m, DLQ_HEADERS.dropped) !== undefined,
    record: {
      ...origin,
      key: m.key,
      value: m.value,
      ...(originalTs ? { timestamp: originalTs } : {}),
      headers,
    },
  };
}

async function applyWithRetry(executor: KeyExecutor, ops: readonly KeyOp[]) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await executor.apply(ops);
    } catch (err) {
      if (!isSyncError(err) || !err.retryable || attempt >= 8) throw err;
      await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 5000)));
    }
  }
}
