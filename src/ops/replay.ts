/**
 * Replay: re-applies the rules to the retained change topics, from the earliest retained event or
 * from a point in time, to restore invalidations after an outage (e.g. Redis flushed or restored
 * from an old snapshot). Two ways:
 * - default: a one-off consumer group reads each partition from the start point up to the end
 *   it had when the replay began, applies (or, with dry-run, only lists) the operations, then
 *   deletes its group;
 * - `resetGroup`: moves the service's own group back to the start point through the admin API
 *   (refused while the group has live members), for the service to re-apply when it starts.
 */
import type { Kafka } from 'kafkajs';
import type { Config } from '../config/config';
import type { RawRecord } from '../envelope/types';
import { SyncError, errorMessage, isSyncError } from '../core/errors';
import { batchContext, planBatch } from '../intake/batch-plan';
import { readRanges, type TopicRange } from '../intake/topic-reader';
import { topicFor } from '../intake/topics';
import type { KeyExecutor } from '../keys/executor';
import { mergeOp, type KeyOp } from '../rules/ops';
import type { RuleSet } from '../rules/registry';
import type { Logger } from '../telemetry/logger';
import type { ProgressSink } from './progress';

export interface ReplayOptions {
  /** 'earliest' or an instant. */
  readonly from: 'earliest' | Date;
  /** Tables to replay; all ruled tables when empty. */
  readonly tables: readonly string[];
  readonly dryRun: boolean;
  readonly resetGroup: boolean;
}

export interface ReplayReport {
  readonly mode: 'one-off group' | 'group reset';
  readonly partitions: number;
  readonly events: number;
  readonly rejected: number;
  /**
   * Dry run: distinct operations over the whole replay (the `planned` list). Otherwise the
   * operations applied: each batch's operations after that batch's de-duplication, summed over
   * the batches (a key dirtied in two batches counts twice). Not kept per operation, so memory
   * does not grow with the distinct keys of the backlog.
   */
  readonly operations: number;
  readonly deleted: number;
  readonly refreshed: number;
  readonly elapsedMs: number;
  /** Dry run: the operations that would be applied. */
  readonly planned?: readonly KeyOp[];
}

/** A partition's replay: from the start point up to the high watermark when the replay began. */
type Range = TopicRange;

export interface ReplayDeps {
  readonly kafka: Kafka;
  readonly config: Config;
  readonly rules: RuleSet;
  /** Needed unless dry-run or group reset. */
  readonly executor?: KeyExecutor;
  readonly logger: Logger;
  readonly progress: ProgressSink;
}

export async function replay(deps: ReplayDeps, options: ReplayOptions): Promise<ReplayReport> {
  const { kafka, config, rules } = deps;
  const unknown = options.tables.filter((t) => !rules.get(t));
  if (unknown.length > 0)
    throw new SyncError(
      'CONFIG_INVALID',
      `--tables: no rule for ${unknown.join(', ')} (known: ${rules.tables.join(', ')})`,
    );
  const tables = options.tables.length > 0 ? options.tables : rules.tables;
  const topics = tables.map((t) => topicFor(config.kafka.topicPrefix, config.kafka.database, t));
  const started = Date.now();
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ranges = await startRanges(admin, topics, options.from);
    if (options.resetGroup) {
      await resetGroup(admin, config.kafka.groupId, ranges);
      return {
        mode: 'group reset',
        partitions: ranges.length,
        events: Number(ranges.reduce((n, r) => n + (r.end - r.start), 0n)),
        rejected: 0,
        operations: 0,
        deleted: 0,
        refreshed: 0,
        elapsedMs: Date.now() - started,
      };
    }
    const groupId = `${config.kafka.groupId}-replay-${Date.now().toString(36)}`;
    try {
      return await consumeRanges({ deps, options, groupId, ranges, started });
    } finally {
      // Left behind, the empty group only lingers until offsets.retention.minutes; say so.
      await admin
        .deleteGroups([groupId])
        .catch((err: unknown) =>
          deps.logger.warn(
            { group: groupId, error: deleteGroupsError(err) },
            'replay: its one-off consumer group could not be deleted (Kafka ACL: Delete on the group prefix <group>-replay-)',
          ),
        );
    }
  } finally {
    await admin.disconnect();
  }
}

type Admin = ReturnType<Kafka['admin']>;

/** kafkajs' DeleteGroups error carries the reason per group (GROUP_AUTHORIZATION_FAILED, …). */
function deleteGroupsError(err: unknown): string {
  const groups = (err as { groups?: { error?: { type?: string } }[] }).groups ?? [];
  const types = groups.map((g) => g.error?.type).filter(Boolean);
  return types.length > 0 ? `${errorMessage(err)}: ${types.join(', ')}` : errorMessage(err);
}

async function startRanges(
  admin: Admin,
  topics: readonly string[],
  from: ReplayOptions['from'],
): Promise<Range[]> {
  const ranges: Range[] = [];
  for (const topic of topics) {
    let ends;
    try {
      ends = await admin.fetchTopicOffsets(topic);
    } catch (err) {
      throw new SyncError('KAFKA_UNAVAILABLE', `topic ${topic}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    const byTime =
      from === 'earliest'
        ? undefined
        : await admin.fetchTopicOffsetsByTimestamp(topic, from.getTime());
    for (const e of ends) {
      const end = BigInt(e.high);
      const atTime = byTime?.find((p) => p.partition === e.partition)?.offset;
      // -1: no event at or after the instant in this partition.
      const start =
        atTime === undefined ? BigInt(e.low) : BigInt(atTime) < 0n ? end : BigInt(atTime);
      ranges.push({ topic, partition: e.partition, start, end });
    }
  }
  return ranges;
}

async function resetGroup(admin: Admin, groupId: string, ranges: readonly Range[]): Promise<void> {
  const { groups } = await admin.describeGroups([groupId]);
  const live = groups[0]?.members.length ?? 0;
  if (live > 0) {
    throw new SyncError(
      'CONFIG_INVALID',
      `consumer group ${groupId} has ${live} live member(s): stop every mis-cache-sync instance of this group before resetting its offsets (or replay without --reset-group, which uses a one-off group)`,
    );
  }
  const byTopic = new Map<string, { partition: number; offset: string }[]>();
  for (const r of ranges) {
    const list = byTopic.get(r.topic) ?? [];
    list.push({ partition: r.partition, offset: r.start.toString() });
    byTopic.set(r.topic, list);
  }
  for (const [topic, partitions] of byTopic) await admin.setOffsets({ groupId, topic, partitions });
}

/** What `consumeRanges` reads with, and from when the replay's time counts. */
interface ConsumeRun {
  readonly deps: ReplayDeps;
  readonly options: ReplayOptions;
  readonly groupId: string;
  readonly ranges: readonly Range[];
  readonly started: number;
}

async function consumeRanges({
  deps,
  options,
  groupId,
  ranges,
  started,
}: ConsumeRun): Promise<ReplayReport> {
  const { kafka, config, rules, executor, progress } = deps;
  if (!options.dryRun && !executor) throw new Error('replay needs an executor unless dry-run');
  const total = Number(ranges.reduce((n, r) => n + (r.end - r.start), 0n));
  const ctx = batchContext(config, rules);
  // Dry run only: the distinct operations, for the list it prints.
  const planned = options.dryRun ? new Map<string, KeyOp>() : undefined;
  let applied = 0;
  let events = 0;
  let rejected = 0;
  let deleted = 0;
  let refreshed = 0;
  let done = ranges.filter((r) => r.end <= r.start).length;
  const detail = () => `${done}/${ranges.length} partitions done`;
  await readRanges({
    kafka,
    groupId,
    sessionTimeoutMs: config.kafka.sessionTimeoutMs,
    ranges,
    // A registry outage or a Redis failure past its retries: kafkajs fetches the batch again.
    retryFailedBatch: true,
    onBatch: async ({ range, messages, heartbeat }) => {
      const records: RawRecord[] = messages.map((m) => ({
        topic: range.topic,
        partition: range.partition,
        offset: m.offset,
        key: m.key,
        value: m.value,
        headers: m.headers ?? {},
      }));
      await ctx.schemas?.prepare(records); // a registry outage: kafkajs retries the batch
      const plan = planBatch(records, ctx);
      events += records.length;
      rejected += plan.rejected.length;
      for (const r of plan.rejected)
        deps.logger.warn(
          { ...r.place, code: r.error.code },
          `replay: rejected event: ${r.error.message}`,
        );
      if (planned) for (const op of plan.ops) mergeOp(planned, op);
      else if (plan.ops.length > 0 && executor) {
        const result = await applyWithRetry(executor, plan.ops, heartbeat);
        applied += plan.ops.length;
        deleted += result.deleted;
        refreshed += result.refreshed;
      }
    },
    onProgress: (partitionsDone) => {
      done = partitionsDone;
      progress.update(events, total, detail());
    },
  });
  progress.finish(events, total, detail());
  return {
    mode: 'one-off group',
    partitions: ranges.length,
    events,
    rejected,
    operations: planned ? planned.size : applied,
    deleted,
    refreshed,
    elapsedMs: Date.now() - started,
    ...(planned ? { planned: [...planned.values()] } : {}),
  };
}

async function applyWithRetry(
  executor: KeyExecutor,
  ops: readonly KeyOp[],
  heartbeat: () => Promise<void>,
) {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await executor.apply(ops);
      await executor.replicated();
      return result;
    } catch (err) {
      if (!isSyncError(err) || !err.retryable || attempt >= 8) throw err;
      await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 5000)));
      await heartbeat();
    }
  }
}
