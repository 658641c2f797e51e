/**
 * How the operator tools read topics: the consistency monitor, `dead-letters` and `replay`. Each
 * is a consumer-group member of its own on a kafkajs `Kafka` built by `createKafka` (`kafka.ts`),
 * the intake's set-up: the same client id, brokers, TLS/SASL, retries and logs, so a broker
 * refusal reads as the service's would. Two shapes:
 * - `TopicFollower`: a long-running member (the monitor): joins its group on the topics and hands
 *   over every batch; kafkajs commits the group's offsets as it goes (autoCommit);
 * - `readRanges`: a bounded read (dead-letters, replay): each partition from a start offset up to
 *   an end offset, once, with the group's offsets never committed (a caller that keeps progress
 *   sets it through the admin API); the read ends when every partition reached its end.
 * Creating, naming and deleting the groups stays with the callers.
 */
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { nextGroupJoin } from './kafkajs/group-join';

/** The consumer group an operator tool reads with. */
export interface ReaderGroup {
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly sessionTimeoutMs: number;
  /** kafkajs' own default (3 s) when not given. */
  readonly heartbeatIntervalMs?: number;
}

function groupMember(group: ReaderGroup): Consumer {
  return group.kafka.consumer({
    groupId: group.groupId,
    sessionTimeout: group.sessionTimeoutMs,
    ...(group.heartbeatIntervalMs === undefined
      ? {}
      : { heartbeatInterval: group.heartbeatIntervalMs }),
  });
}

export interface FollowOptions {
  readonly topics: readonly string[];
  /** Without a committed offset: from the earliest retained event (else new events only). */
  readonly fromBeginning: boolean;
  /** Each fetched batch; kafkajs resolves and commits its offsets once it returned. */
  readonly eachBatch: (payload: EachBatchPayload) => Promise<void>;
}

/** A long-running member of its group on the topics, until `stop()`. */
export class TopicFollower {
  private readonly consumer: Consumer;

  constructor(group: ReaderGroup) {
    this.consumer = groupMember(group);
  }

  /** Joins the group and starts handing over batches; resolves once joined. */
  async start(options: FollowOptions): Promise<void> {
    const joined = nextGroupJoin(this.consumer);
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: [...options.topics],
      fromBeginning: options.fromBeginning,
    });
    await this.consumer.run({ autoCommit: true, eachBatch: options.eachBatch });
    await joined;
  }

  /** Leaves the group (after the batch in flight). */
  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

/** Offsets `start` (inclusive) to `end` (exclusive) of one partition. */
export interface TopicRange {
  readonly topic: string;
  readonly partition: number;
  readonly start: bigint;
  readonly end: bigint;
}

export interface RangeBatch<R extends TopicRange> {
  readonly range: R;
  /** The fetched batch's messages inside the range, in offset order; may be empty. */
  readonly messages: readonly KafkaMessage[];
  /** Keeps the membership alive during long work on the batch. */
  heartbeat(): Promise<void>;
}

export interface RangeReadOptions<R extends TopicRange> extends ReaderGroup {
  readonly ranges: readonly R[];
  readonly onBatch: (batch: RangeBatch<R>) => Promise<void>;
  /**
   * true: a batch whose `onBatch` throws goes back to kafkajs, which fetches it again (its retry;
   * a crash after the retries ends the read with the error). false: the error ends the read at
   * once, and no batch is handed over after it.
   */
  readonly retryFailedBatch: boolean;
  /** After each batch: partitions done (empty ranges count as done) of all ranges. */
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * Reads every non-empty range once, each partition from its start (a seek: what precedes it is
 * not read), batch by batch, and resolves when each reached its end; nothing when all are empty.
 * The fetch position moves past each batch handed over, never committed.
 */
export async function readRanges<R extends TopicRange>(
  options: RangeReadOptions<R>,
): Promise<void> {
  const { ranges, onBatch } = options;
  const pending = new Map(
    ranges.filter((r) => r.end > r.start).map((r) => [`${r.topic}:${r.partition}`, r]),
  );
  if (pending.size === 0) return;
  const consumer = groupMember(options);
  let ended = false;
  let finish: () => void = () => undefined;
  let fail: (err: unknown) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = () => {
      ended = true;
      resolve();
    };
    fail = (err) => {
      ended = true;
      reject(err);
    };
  });
  consumer.on(consumer.events.CRASH, (e) => fail(e.payload.error));
  try {
    await consumer.connect();
    await consumer.subscribe({
      topics: [...new Set(ranges.map((r) => r.topic))],
      fromBeginning: true,
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        const key = `${batch.topic}:${batch.partition}`;
        const range = pending.get(key);
        if (!range || ended) return;
        const messages = batch.messages.filter(
          (m) => BigInt(m.offset) >= range.start && BigInt(m.offset) < range.end,
        );
        try {
          await onBatch({ range, messages, heartbeat });
        } catch (err) {
          if (options.retryFailedBatch) throw err;
          fail(err);
          return;
        }
        const last = batch.messages[batch.messages.length - 1];
        if (last) resolveOffset(last.offset);
        await heartbeat();
        if (last && BigInt(last.offset) >= range.end - 1n) pending.delete(key);
        options.onProgress?.(ranges.length - pending.size, ranges.length);
        if (pending.size === 0) finish();
      },
    });
    for (const r of pending.values())
      consumer.seek({ topic: r.topic, partition: r.partition, offset: r.start.toString() });
    await done;
  } finally {
    await consumer.disconnect();
  }
}
