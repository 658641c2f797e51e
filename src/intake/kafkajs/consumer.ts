/** The intake's group consumer on kafkajs (`MCS_KAFKA_CLIENT=kafkajs`). */
import type { EachBatchPayload, Kafka } from 'kafkajs';
import type { RawRecord } from '../../envelope/types';
import { isSyncError } from '../../core/errors';
import type { Logger } from '../../telemetry/logger';
import {
  commitFailed,
  type BatchHandler,
  type GroupConsumer,
  type GroupConsumerOptions,
} from '../client';
import { CommitBehind } from '../commit-behind';
import { seedGroupStarts } from './admin';
import { nextGroupJoin } from './group-join';

/** Batches of one partition fetched ahead of the one being applied (the next fetch overlaps). */
const AHEAD = 2;
/** Wait before a failed batch is fetched again (a non-retryable failure must not spin). */
const REFETCH_DELAY_MS = 1_000;

/** One partition's batches, applied one after another in offset order. */
interface Lane {
  /** The batches of this lane queued or being applied. */
  readonly pending: Promise<void>[];
  tail: Promise<void>;
  /** Bumped when a batch failed: the batches queued behind it are dropped (fetched again). */
  epoch: number;
  /** After a failure, until the seek back to it was made: batches arriving meanwhile are stale. */
  seeking?: Promise<void>;
}

/**
 * kafkajs fetches a partition's next batch only once `eachBatch` returned. So `eachBatch` queues
 * the batch on its partition's lane, moves the fetch position past it, and returns while at most
 * AHEAD batches of the partition are queued: the fetch and decode of the next batch overlap the
 * Redis work of this one. Each lane applies its batches one at a time in offset order, and the
 * offsets go through CommitBehind (explicit offsets, never the fetch position). A batch that
 * fails, or whose partition was revoked (a new group generation), commits nothing: after a
 * failure the lane drops what was queued behind it, and after a pause (a failure that repeats
 * must not spin) seeks back to the failed batch's first offset, so the rest is fetched and
 * applied again; batches fetched before that seek are stale and dropped.
 */
export class KafkajsGroupConsumer implements GroupConsumer {
  private readonly consumer;
  private readonly lanes = new Map<string, Lane>();
  private readonly commits: CommitBehind;
  private generation = 0;
  /** Per `topic:partition`: the generation whose start this member committed (start-offsets.ts). */
  private readonly claimed = new Map<string, number>();
  private stopping = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: GroupConsumerOptions,
    private readonly log: Logger,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.floor(options.sessionTimeoutMs / 10),
      maxBytesPerPartition: options.fetchBytesPerPartition,
    });
    this.commits = new CommitBehind((err) =>
      this.log.warn(
        { err, ...(isSyncError(err) ? err.details : {}) },
        'offset commit failed: the next commit of the partition covers it',
      ),
    );
    const { events } = this.consumer;
    this.consumer.on(events.GROUP_JOIN, (e) => {
      this.generation += 1; // what was queued under the previous assignment commits nothing
      options.events.joined({
        memberId: e.payload.memberId,
        assigned: e.payload.memberAssignment,
      });
    });
    this.consumer.on(events.CRASH, (e) => options.events.crashed(e.payload.error));
    this.consumer.on(events.STOP, () => options.events.stopped());
  }

  async start(handler: BatchHandler): Promise<void> {
    // Before joining: a partition without a commit gets the reset policy's offset committed, so
    // a rebalance never resolves `latest` again past what this member fetched.
    const { groupId, topics, fromBeginning } = this.options;
    const seeded = await seedGroupStarts(this.kafka, { groupId, topics, fromBeginning });
    if (!seeded) this.log.debug({ groupId }, 'group has members: starts committed per batch');
    const joined = nextGroupJoin(this.consumer);
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: [...this.options.topics],
      fromBeginning: this.options.fromBeginning,
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConcurrency,
      eachBatch: (payload) => this.enqueue(payload, handler),
    });
    await joined;
  }

  /** The batch being applied finishes (and commits); queued ones are dropped for redelivery. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.lanes.values()].flatMap((lane) => lane.pending));
    await this.commits.flush();
    await this.consumer.disconnect();
  }

  private lane(key: string): Lane {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { pending: [], tail: Promise.resolve(), epoch: 0 };
      this.lanes.set(key, lane);
    }
    return lane;
  }

  private async enqueue(payload: EachBatchPayload, handler: BatchHandler): Promise<void> {
    const { batch } = payload;
    const first = batch.messages[0];
    const last = batch.messages[batch.messages.length - 1];
    if (!first || !last || this.stopping) return;
    const { topic, partition } = batch;
    const key = `${topic}:${partition}`;
    const lane = this.lane(key);
    if (lane.seeking) {
      await lane.seeking; // fetched before the seek back: its offsets come again after the failed batch
      return;
    }
    if (payload.isStale()) return;
    const { generation } = this;
    const { epoch } = lane;
    // Still this member's partition, and nothing failed before this batch on the lane.
    const owned = () => generation === this.generation && epoch === lane.epoch;
    const isActive = () => !this.stopping && owned() && payload.isRunning();
    const records: RawRecord[] = batch.messages.map((m) => ({
      topic,
      partition,
      offset: m.offset,
      key: m.key,
      value: m.value,
      timestamp: m.timestamp,
      headers: m.headers ?? {},
    }));
    const commitAt = (offset: string) => () =>
      payload
        .commitOffsetsIfNecessary({
          topics: [{ topic, partitions: [{ partition, offset }] }],
        })
        .catch((err: unknown) => {
          throw commitFailed(topic, partition, offset, err);
        });
    const commit = commitAt(String(BigInt(last.offset) + 1n));
    const apply = async () => {
      if (!isActive()) return; // queued before a failure, a revocation or stop(): fetched again
      try {
        if (this.claimed.get(key) !== generation) {
          // The first batch of the partition in this generation: its first offset is where the
          // client started (committed, or the reset policy); committed before anything of it is
          // applied, so whoever owns the partition after a rebalance resumes there at the latest.
          await commitAt(first.offset)();
          if (!owned()) return;
          this.claimed.set(key, generation);
        }
        await handler(
          { topic, partition, records, highWatermark: batch.highWatermark },
          {
            isActive,
            heartbeat: () => payload.heartbeat(),
            commit: async () => {
              if (owned()) this.commits.submit(key, commit);
            },
          },
        );
      } catch (err) {
        if (!owned()) return; // revoked or stopped meanwhile: the batch is redelivered anyway
        lane.epoch += 1;
        this.log.error(
          { err, topic, partition, offset: first.offset, lastOffset: last.offset },
          `batch failed: fetching ${topic}/${partition} again from offset ${first.offset}`,
        );
        lane.seeking = sleep(REFETCH_DELAY_MS).then(() => {
          lane.seeking = undefined;
          if (this.stopping || generation !== this.generation) return; // refetched from the commit
          try {
            this.consumer.seek({ topic, partition, offset: first.offset });
          } catch (e) {
            this.log.warn({ err: e, topic, partition }, 'seek back failed: redelivery on rejoin');
          }
        });
        await lane.seeking;
      }
    };
    payload.resolveOffset(last.offset); // the next fetch starts after this batch
    const run = lane.tail.then(apply);
    lane.tail = run;
    lane.pending.push(run);
    void run.finally(() => lane.pending.splice(lane.pending.indexOf(run), 1));
    while (lane.pending.length >= AHEAD) {
      await Promise.race(lane.pending);
      await payload.heartbeat();
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
