/**
 * The intake's group consumer on @platformatic/kafka (`MCS_KAFKA_CLIENT=platformatic`).
 *
 * The library hands out a stream of single messages of every assigned partition; this adapter
 * turns what is buffered into per-partition batches (each partition in order, up to
 * `partitionsConcurrency` partitions at once) and keeps the intake contract of `client.ts`:
 * - autocommit off: an offset is committed only by `BatchHandle.commit()`;
 * - a batch fetched under an older group generation, or of a partition this member no longer
 *   owns, is dropped unprocessed; after a rejoin the adapter replaces the message stream by a new
 *   one, which fetches from the committed offsets (the library's own stream keeps its fetch
 *   position for a partition without a commit, past the records it dropped), and every
 *   partition has a committed offset by then (`../start-offsets.ts`): seeded before joining, and
 *   each generation's first batch of a partition commits its first offset before it is applied;
 * - records below an offset this member already committed are skipped (a rejoin refetches from
 *   the committed offset, which may lag what was applied meanwhile);
 * - heartbeats run on the library's own timer, so a long Redis retry keeps the membership;
 * - a stream that fails (broker gone) is re-created with backoff until `stop()`.
 */
import { Consumer } from '@platformatic/kafka';
import type { RawRecord } from '../../envelope/types';
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../telemetry/logger';
import { CommitBehind } from '../commit-behind';
import {
  commitFailed,
  type BatchHandler,
  type GroupConsumer,
  type GroupConsumerOptions,
} from '../client';
import { seedGroupStarts } from './admin';
import { kafkaError } from './errors';
import { byBytes, drain, generationOf, toRawRecord, type Msg, type Stream } from './messages';
import type { BaseOptions } from './options';

/** How long a fetch waits at most for new records (also bounds how long `stop()` waits). */
const MAX_WAIT_MS = 500;
/** Records buffered ahead of processing (the stream's high-water mark). */
const BUFFERED_RECORDS = 1024;
/** Bytes per fetch response (records are slices of it, so it bounds what a batch pins). */
const MAX_FETCH_BYTES = 2 * 1024 * 1024;
/** Value bytes per batch at most (see byBytes). */
const MAX_BATCH_BYTES = 768 * 1024;
/** How often the partitions' end offsets are refreshed for the lag metric. */
const END_OFFSETS_INTERVAL_MS = 2000;

export class PlatformaticGroupConsumer implements GroupConsumer {
  private readonly consumer: Consumer;
  private stream: Stream | undefined;
  /** The group generation the stream's fetch positions were resolved in. */
  private streamGeneration: number | undefined;
  /** Per `topic:partition`: the generation whose start this member committed. */
  private readonly claimed = new Map<string, number>();
  private stopping = false;
  private loop: Promise<void> | undefined;
  /** Wakes the loop waiting for records (new records, stream end, stop). */
  private wake: () => void = () => undefined;
  /** Per `topic:partition`: the offset after the last record this member committed. */
  private readonly committed = new Map<string, bigint>();
  /** Per `topic:partition`: the end offset last seen (lag metric). */
  private readonly ends = new Map<string, bigint>();
  private endsTimer: NodeJS.Timeout | undefined;
  /** Commits run behind the next batch (a failed one is reported; the next one covers it). */
  private readonly commits: CommitBehind;

  constructor(
    private readonly base: BaseOptions,
    private readonly options: GroupConsumerOptions,
    private readonly log: Logger,
  ) {
    this.consumer = new Consumer({
      ...base,
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.floor(options.sessionTimeoutMs / 10),
      autocommit: false,
      maxWaitTime: MAX_WAIT_MS,
      maxBytes: MAX_FETCH_BYTES,
      highWaterMark: BUFFERED_RECORDS,
    });
    this.commits = new CommitBehind((err) =>
      this.log.warn(
        { error: errorMessage(err), details: (err as { details?: unknown }).details },
        'offset commit failed: the next commit of the partition covers it',
      ),
    );
    this.consumer.on('consumer:group:join', (e) => {
      options.events.joined({ memberId: e.memberId, assigned: this.consumer.assignments });
      this.wake(); // the loop replaces the stream (see run)
    });
  }

  async start(handler: BatchHandler): Promise<void> {
    const { groupId, topics, fromBeginning } = this.options;
    const seeded = await seedGroupStarts(
      this.base,
      (timestamp) => this.consumer.listOffsets({ topics: [...topics], timestamp }),
      { groupId, topics, fromBeginning },
    ).catch((err: unknown) => {
      throw kafkaError(err);
    });
    if (!seeded) this.log.debug({ groupId }, 'group has members: starts committed per batch');
    this.stream = await this.openStream().catch((err: unknown) => {
      throw kafkaError(err);
    });
    this.loop = this.run(handler);
    this.endsTimer = setInterval(() => this.refreshEnds(), END_OFFSETS_INTERVAL_MS);
    this.endsTimer.unref();
    this.refreshEnds();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.endsTimer) clearInterval(this.endsTimer);
    this.wake();
    await this.loop;
    await this.commits.flush();
    await this.stream?.close().catch(() => undefined);
    await this.consumer.close().catch(() => undefined); // leaves the group
    this.options.events.stopped();
  }

  private async openStream(): Promise<Stream> {
    const stream = await this.consumer.consume({
      topics: [...this.options.topics],
      mode: 'committed',
      fallbackMode: this.options.fromBeginning ? 'earliest' : 'latest',
      autocommit: false,
      sessionTimeout: this.options.sessionTimeoutMs,
      heartbeatInterval: Math.floor(this.options.sessionTimeoutMs / 10),
    });
    // A permanent 'readable' listener keeps the stream in paused (pull) mode: without one Node
    // sets readableFlowing back to null and the library stops fetching.
    stream.on('readable', () => undefined);
    stream.on('error', () => undefined); // seen by the loop (waitForRecords / drain)
    this.streamGeneration = this.consumer.generationId;
    return stream;
  }

  /**
   * After a rejoin: a new stream, opened before the old one closes (so the topics stay tracked
   * and the consumer does not rejoin again), fetches from the committed offsets; the old one's
   * buffered and in-flight records belong to the old generation.
   */
  private async renewStream(old: Stream): Promise<void> {
    await this.commits.flush(); // the new stream starts at what landed
    const fresh = await this.openStream();
    this.stream = fresh;
    await old.close().catch(() => undefined);
  }

  /** Reads what the stream buffered, processes it as per-partition batches, again until stop. */
  private async run(handler: BatchHandler): Promise<void> {
    let delay = 300;
    while (!this.stopping) {
      const stream = this.stream;
      try {
        if (!stream || stream.destroyed) throw new Error('message stream closed');
        if (this.consumer.generationId !== this.streamGeneration) {
          await this.renewStream(stream);
          continue;
        }
        const messages = drain(stream);
        if (messages.length === 0) {
          await this.waitForRecords(stream);
          continue;
        }
        await this.process(messages, handler);
        delay = 300;
      } catch (err) {
        if (this.stopping) break;
        // Broker gone, fatal stream error or a failed batch: start over from the committed offsets.
        const details = (err as { details?: unknown }).details; // a commit names its place
        this.log.error(
          { error: errorMessage(kafkaError(err)), details },
          'kafka consumer failed, restarting it',
        );
        this.options.events.crashed(err);
        await this.commits.flush(); // the new stream starts at the committed offsets
        await stream?.close().catch(() => undefined);
        this.stream = undefined;
        await sleep(delay);
        delay = Math.min(delay * 2, 10_000);
        if (this.stopping) break;
        this.stream = await this.openStream().catch((e: unknown) => {
          this.log.error({ error: errorMessage(kafkaError(e)) }, 'kafka consumer restart failed');
          return undefined;
        });
      }
    }
  }

  private waitForRecords(stream: Stream): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        stream.off('readable', done);
        stream.off('close', closed);
        stream.off('error', failed);
        this.wake = () => undefined;
        resolve();
      };
      const closed = () => {
        done();
      };
      const failed = (err: Error) => {
        done();
        reject(err);
      };
      stream.on('readable', done);
      stream.once('close', closed);
      stream.once('error', failed);
      this.wake = done;
    });
  }

  private async process(messages: Msg[], handler: BatchHandler): Promise<void> {
    const byPartition = new Map<string, Msg[]>();
    for (const m of messages) {
      const tp = `${m.topic}:${m.partition}`;
      const list = byPartition.get(tp);
      if (list) list.push(m);
      else byPartition.set(tp, [m]);
    }
    const groups = [...byPartition.entries()];
    let next = 0;
    const worker = async () => {
      for (let g = groups[next++]; g !== undefined; g = groups[next++]) {
        for (const chunk of byBytes(g[1], MAX_BATCH_BYTES))
          await this.processPartition(g[0], chunk, handler);
      }
    };
    const width = Math.min(this.options.partitionsConcurrency, groups.length);
    await Promise.all(Array.from({ length: width }, worker));
  }

  private async processPartition(
    tp: string,
    messages: Msg[],
    handler: BatchHandler,
  ): Promise<void> {
    const first = messages[0];
    if (!first || this.stopping) return;
    const { topic, partition } = first;
    const generation = generationOf(first);
    if (generation !== this.consumer.generationId || !this.owns(topic, partition)) return;
    const done = this.committed.get(tp) ?? -1n;
    const records: RawRecord[] = [];
    let lastOffset = -1n;
    for (const m of messages) {
      if (m.offset < done) continue;
      lastOffset = m.offset;
      records.push(toRawRecord(m));
    }
    if (records.length === 0) return;
    if (this.claimed.get(tp) !== generation) {
      // The generation's first batch of the partition: its start committed before it is applied.
      const start = BigInt(records[0]!.offset);
      try {
        await this.consumer.commit({
          offsets: [{ topic, partition, offset: start, leaderEpoch: -1 }],
        });
      } catch (err) {
        if (generation !== this.consumer.generationId) return; // rebalanced: fetched again
        throw commitFailed(topic, partition, start.toString(), kafkaError(err));
      }
      if (generation === undefined || generation !== this.consumer.generationId) return;
      this.claimed.set(tp, generation);
    }
    const end = this.ends.get(tp);
    const highWatermark = end === undefined || end <= lastOffset ? lastOffset + 1n : end;
    const isActive = () =>
      !this.stopping && this.consumer.generationId === generation && this.owns(topic, partition);
    await handler(
      { topic, partition, records, highWatermark: highWatermark.toString() },
      {
        isActive,
        heartbeat: async () => undefined,
        commit: async () => {
          if (!isActive()) return; // revoked meanwhile: the new owner re-applies from the committed offset
          const offset = lastOffset + 1n;
          this.commits.submit(tp, async () => {
            try {
              await this.consumer.commit({
                offsets: [{ topic, partition, offset, leaderEpoch: -1 }],
              });
            } catch (err) {
              if (!isActive()) return; // the group rebalanced during the commit: redelivered
              throw commitFailed(topic, partition, offset.toString(), kafkaError(err));
            }
            if (offset > (this.committed.get(tp) ?? -1n)) this.committed.set(tp, offset);
          });
        },
      },
    );
  }

  private owns(topic: string, partition: number): boolean {
    const a = this.consumer.assignments?.find((x) => x.topic === topic);
    return a !== undefined && a.partitions.includes(partition);
  }

  private refreshEnds(): void {
    if (this.stopping || !this.consumer.assignments?.length) return;
    this.consumer
      .listOffsets({ topics: [...this.options.topics] })
      .then((offsets) => {
        for (const [topic, parts] of offsets) {
          parts.forEach((end, partition) => this.ends.set(`${topic}:${partition}`, end));
        }
      })
      .catch(() => undefined); // only the lag metric depends on it
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
