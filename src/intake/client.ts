/**
 * The one interface between the service and a Kafka client library. Two implementations sit side
 * by side (`kafkajs/`, `platformatic/`), chosen by `MCS_KAFKA_CLIENT`
 * (`client-factory.ts`); nothing outside `src/intake/` knows which one runs.
 *
 * The contract every implementation keeps:
 * - a consumer-group member that hands over per-partition batches in offset order, never two
 *   batches of one partition at once (the next batch may be fetched while one is applied);
 * - a batch whose handler throws is handed over again, with every batch after it;
 * - no autocommit: an offset is committed only by `BatchHandle.commit()`, which the intake calls
 *   after Redis acknowledged the whole batch; the commit itself may run behind the next batch
 *   (`commit-behind.ts`): a crash before it lands redelivers, which invalidations absorb;
 * - `isActive()` turns false when the consumer stops or the batch's partition was revoked
 *   (rebalance): the batch is then left uncommitted, for redelivery to the partition's owner;
 * - `stop()` waits for the batch in flight, then leaves the group.
 */
import type { RawRecord } from '../envelope/types';
import { SyncError, errorMessage } from '../core/errors';

export const KAFKA_CLIENTS = ['kafkajs', 'platformatic'] as const;
export type KafkaClientName = (typeof KAFKA_CLIENTS)[number];

export interface PartitionBatch {
  readonly topic: string;
  readonly partition: number;
  /** In offset order; never empty. */
  readonly records: readonly RawRecord[];
  /** The partition's end offset as last seen by the client (for the lag metric), when known. */
  readonly highWatermark?: string;
}

export interface BatchHandle {
  /** False once the consumer is stopping or the batch's partition was revoked. */
  isActive(): boolean;
  /** Keeps the group membership alive during a long retry (a no-op where heartbeats run alone). */
  heartbeat(): Promise<void>;
  /** Commits the offset after the batch's last record (or hands it to a commit running behind). */
  commit(): Promise<void>;
}

export type BatchHandler = (batch: PartitionBatch, handle: BatchHandle) => Promise<void>;

export interface GroupEvents {
  /** The member joined (or re-joined) its group; the assignment may have changed. */
  joined(info: { memberId: string; assigned: unknown }): void;
  /** The client gave up (it does not restart itself). */
  crashed(error: unknown): void;
  stopped(): void;
}

export interface GroupConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Without a committed offset: start at the earliest retained event (else at the end). */
  readonly fromBeginning: boolean;
  readonly sessionTimeoutMs: number;
  /** Partitions whose batches may be processed at the same time. */
  readonly partitionsConcurrency: number;
  /** Most bytes of one partition a fetch returns (where the library has such a setting). */
  readonly fetchBytesPerPartition: number;
  readonly events: GroupEvents;
}

export interface GroupConsumer {
  /** Resolves once the member joined its group and is fetching. */
  start(handler: BatchHandler): Promise<void>;
  /** Waits for the batch in flight (committed, or left for redelivery), then leaves the group. */
  stop(): Promise<void>;
}

export interface OutgoingRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string | Buffer>>;
}

export interface RecordProducer {
  connect(): Promise<void>;
  /** Resolves once every replica acknowledged (acks=all). */
  send(topic: string, records: readonly OutgoingRecord[]): Promise<void>;
  disconnect(): Promise<void>;
}

/** A failed offset commit, naming its place (retryable: the batch is redelivered, idempotent). */
export function commitFailed(
  topic: string,
  partition: number,
  offset: string,
  err: unknown,
): SyncError {
  return new SyncError(
    'KAFKA_UNAVAILABLE',
    `kafka: commit of offset ${offset} on ${topic}/${partition} failed: ${errorMessage(err)}`,
    { retryable: true, details: { topic, partition, offset }, cause: err },
  );
}

export interface KafkaClient {
  readonly name: KafkaClientName;
  consumer(options: GroupConsumerOptions): GroupConsumer;
  producer(): RecordProducer;
  /** Creates the topics that do not exist yet; returns the created ones. */
  ensureTopics(topics: readonly string[]): Promise<string[]>;
  /** Partitions per existing topic (the row index ends a snapshot once all passed it). */
  partitionCounts?(topics: readonly string[]): Promise<Map<string, number>>;
}
