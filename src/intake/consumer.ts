/**
 * Kafka intake: a consumer-group member that feeds each partition batch through
 * decode → plan → Redis, and commits a batch's offsets only after every step of it was
 * acknowledged: the Redis operations, the scheduling of their second pass, and the copies of
 * rejected events on the dead-letter topic. While a step fails with a retryable error (Redis or
 * Kafka down) the batch is retried with backoff (heartbeats keep the group membership), so
 * nothing is skipped and nothing is committed early.
 */
import type { Config } from '../config/config';
import { errorMessage, isSyncError } from '../core/errors';
import type { KeyExecutor } from '../keys/executor';
import type { FamilyTally } from '../telemetry/types';
import type { SecondPass } from '../keys/second-pass';
import type { RuleSet } from '../rules/registry';
import { mergeOp, type KeyOp } from '../rules/ops';
import { NO_RESOLUTION, needsResolve, resolveRows, type Resolution } from '../row-index/resolve';
import type { RelatedRowsPort, RowIndexPort } from '../row-index/ports';
import { rowTablesOf, type RowModel } from '../row-index/model';
import type { Counters } from '../telemetry/counters';
import type { Logger } from '../telemetry/logger';
import { tableOpRuns, type Metrics } from '../telemetry/metrics';
import { batchContext, planBatch, type BatchContext, type BatchPlan } from './batch-plan';
import type { BatchHandle, GroupConsumer, KafkaClient, PartitionBatch } from './client';
import type { AppliedTracker } from './applied/tracker';
import type { DeadLetterQueue } from './dead-letter';
import { OutageReporter } from './outage';
import { SkipWatch } from './skip-watch';
import { topicFor } from './topics';

/** Where the Kafka consumer is in its life (readiness reports it). */
export type ConsumerState = 'starting' | 'joined' | 'crashed' | 'stopped';

export interface IntakeDeps {
  /** The Kafka client library behind the intake interface (kafkajs or @platformatic/kafka). */
  readonly kafka: KafkaClient;
  readonly config: Config;
  readonly rules: RuleSet;
  readonly executor: KeyExecutor;
  /** Where rejected events go (poison policy `dead-letter`); absent: logged only. */
  readonly deadLetters?: DeadLetterQueue;
  readonly secondPass?: SecondPass;
  /** Read-your-writes marks (MCS_APPLIED_TRACKING): also consumes the transaction topic. */
  readonly applied?: AppliedTracker;
  readonly counters: Counters;
  /** Prometheus metrics, recorded alongside the counters. */
  readonly metrics?: Metrics;
  readonly logger: Logger;
  /** The row index and what it serves (flattened records, FK cascades, via targets). */
  readonly rowIndex?: {
    readonly model: RowModel;
    readonly index: RowIndexPort;
    readonly related?: RelatedRowsPort;
  };
}

export class ChangeIntake {
  private readonly consumer: GroupConsumer;
  private readonly ctx: BatchContext;
  private readonly outage: OutageReporter;
  private readonly log: Logger;
  private consumerState: ConsumerState = 'starting';
  private readonly skipWatch: SkipWatch;
  /** Partitions per change topic, read at start: the row index's snapshot ends need them. */
  private partitions = new Map<string, number>();

  constructor(private readonly deps: IntakeDeps) {
    const { config } = deps;
    this.log = deps.logger.child({ component: 'intake' });
    this.skipWatch = new SkipWatch({
      onChange: (skipping) => this.skippingChanged(skipping),
    });
    const model = deps.rowIndex?.model;
    this.ctx = {
      ...batchContext(config, deps.rules),
      ...(model ? { rowTables: rowTablesOf(model) } : {}),
    };
    this.outage = new OutageReporter(this.log, config.retry.reminderMs);
    this.consumer = deps.kafka.consumer({
      groupId: config.kafka.groupId,
      topics: this.topics,
      fromBeginning: config.kafka.fromBeginning,
      sessionTimeoutMs: config.kafka.sessionTimeoutMs,
      partitionsConcurrency: config.kafka.partitionsConcurrency,
      fetchBytesPerPartition: config.kafka.fetchBytesPerPartition,
      events: {
        joined: ({ memberId, assigned }) => {
          if (this.consumerState === 'starting')
            this.log.info({ memberId, assigned, client: deps.kafka.name }, 'joined consumer group');
          this.consumerState = 'joined';
          deps.metrics?.resetLag(); // the assignment may have changed
        },
        crashed: () => (this.consumerState = 'crashed'),
        stopped: () => (this.consumerState = 'stopped'),
      },
    });
  }

  /** For readiness: `joined` while the consumer is a member of its group. */
  get state(): ConsumerState {
    return this.consumerState;
  }

  /** For readiness: what is skipped while every event read is of a database not watched. */
  get skippingAll(): string | undefined {
    return this.skipWatch.skipping;
  }

  private skippingChanged(skipping: string | undefined): void {
    this.deps.metrics?.state.setSkippingAll(skipping !== undefined);
    const { databases } = this.deps.config.rules;
    if (skipping === undefined) this.log.info({ databases }, 'change events handled again');
    else
      this.log.warn(
        { databases, topicsDatabase: this.deps.config.kafka.database },
        `skipping every change event: ${skipping}; check MCS_DATABASES against the connector's databases`,
      );
  }

  get topics(): string[] {
    const { topicPrefix, database, transactionTopic } = this.deps.config.kafka;
    const topics = this.deps.rules.tables.map((t) => topicFor(topicPrefix, database, t));
    return this.deps.applied ? [...topics, transactionTopic] : topics;
  }

  /** Resolves once the consumer has joined its group and is fetching. */
  async start(): Promise<void> {
    if (this.deps.rowIndex && this.deps.kafka.partitionCounts) {
      try {
        this.partitions = await this.deps.kafka.partitionCounts(this.topics);
      } catch (err) {
        // Unknown counts only keep snapshots from completing the row index (fallbacks).
        this.log.warn(
          { error: errorMessage(err) },
          'partition counts unreadable: row index snapshots stay incomplete',
        );
      }
    }
    await this.consumer.start((batch, handle) => this.handleBatch(batch, handle));
  }

  /** Leaves the group after the batch in flight (its offsets committed, or left for redelivery). */
  async stop(): Promise<void> {
    await this.consumer.stop();
  }

  private async handleBatch(batch: PartitionBatch, handle: BatchHandle): Promise<void> {
    const { records } = batch;
    const last = records[records.length - 1];
    if (!last) return;
    // Avro: the writer schemas first; a registry outage stalls the partition like Redis's.
    const { schemas } = this.ctx;
    if (schemas && !(await this.withRetry(batch, handle, () => schemas.prepare(records)))) return;
    const { applied } = this.deps;
    if (applied && batch.topic === this.deps.config.kafka.transactionTopic) {
      if (await this.withRetry(batch, handle, () => applied.recordBoundaries(records, schemas)))
        await handle.commit();
      return;
    }
    const plan = planBatch(records, this.ctx);
    this.report(plan);
    let resolution: Resolution | undefined;
    const done = await this.withRetry(batch, handle, async () => {
      resolution ??= await this.resolve(plan, batch);
      await this.applyPlan(plan, resolution, batch);
    });
    if (!done) return; // stopping or rebalanced: leave the batch uncommitted for redelivery
    await handle.commit();
    if (batch.highWatermark !== undefined) {
      this.deps.metrics?.consumerLag(
        batch.topic,
        batch.partition,
        batch.highWatermark,
        last.offset,
      );
    }
  }

  /** The resolve step: what the row index (or MySQL) adds to the batch's plan. */
  private async resolve(plan: BatchPlan, batch: PartitionBatch): Promise<Resolution> {
    const ri = this.deps.rowIndex;
    if (!ri || !needsResolve(plan.rows, ri.model)) return NO_RESOLUTION;
    const res = await resolveRows(
      plan.rows,
      { ...this.ctx, model: ri.model, partitionsOf: (t) => this.partitions.get(t) },
      ri.index,
      ri.related,
    );
    this.deps.counters.add('relatedRows', res.related);
    if (res.fallbacks.length > 0) {
      this.deps.counters.add('rowIndexFallbacks', res.fallbacks.length);
      this.deps.metrics?.rowIndexFallbacks(res.reasons);
      this.log.warn(
        {
          topic: batch.topic,
          partition: batch.partition,
          offset: batch.records[0]?.offset,
          fallbacks: res.fallbacks.slice(0, 10),
          count: res.fallbacks.length,
        },
        'row index could not answer: key families dropped as patterns',
      );
    }
    return res;
  }

  /** Every step that must be acknowledged before the batch counts as done; each idempotent. */
  private async applyPlan(
    plan: BatchPlan,
    resolution: Resolution,
    batch: PartitionBatch,
  ): Promise<void> {
    const { executor, counters, secondPass, deadLetters, metrics } = this.deps;
    const tally: FamilyTally | undefined = metrics ? new Map() : undefined;
    let ops: readonly KeyOp[] = plan.ops;
    if (resolution.ops.length > 0) {
      const merged = new Map<string, KeyOp>();
      for (const op of [...plan.ops, ...resolution.ops]) mergeOp(merged, op);
      ops = [...merged.values()];
    }
    // The second pass only records the operations for later: it need not wait for the deletes.
    const [result] = await Promise.all([executor.apply(ops, tally), secondPass?.schedule(ops)]);
    // The index is written after the keys its old entries named were dropped, and before the
    // commit: a redelivered batch finds either the old entries or the keys already gone.
    if (resolution.writes.length > 0) await this.deps.rowIndex?.index.write(resolution.writes);
    await executor.replicated();
    // Read-your-writes: marked after the ack, before the commit (a redelivery re-marks: a set).
    await this.deps.applied?.recordPlan(plan);
    const ackMs = Date.now();
    if (deadLetters && plan.rejected.length > 0) {
      await deadLetters.send(plan.rejected);
      counters.add('deadLettered', plan.rejected.length);
      metrics?.deadLetteredEvents(plan.rejected.length);
    }
    if (metrics && tally) metrics.recordApplied(tally, plan.handled, ackMs);
    counters.add('keysDeleted', result.deleted);
    counters.add('patternScans', result.scans);
    counters.add('keysRefreshed', result.refreshed);
    counters.add('refreshFallbacks', result.refreshFallbacks);
    if (ops.length > 0) {
      const { topic, partition } = batch;
      const fields = {
        topic,
        partition,
        offset: batch.records[batch.records.length - 1]?.offset,
        ops: ops.length,
        deleted: result.deleted,
      };
      this.log.debug(fields, 'batch applied');
    }
  }

  private report(plan: BatchPlan): void {
    const { counters } = this.deps;
    counters.add('batches');
    counters.add('tombstones', plan.tombstones);
    this.deps.metrics?.recordPlan(
      plan.handled,
      plan.tombstones,
      plan.rejected.map((r) => r.error.code),
    );
    // One add per run of a table and op, not per event (each add builds its label).
    for (const [table, op, count] of tableOpRuns(plan.handled))
      counters.add('events', count, `${table}:${op}`);
    let skipped = 0;
    for (const h of plan.handled) if (h.op === 'r' && h.keys === 0) skipped++;
    if (skipped > 0) counters.add('skippedSnapshot', skipped);
    this.skipWatch.record(
      plan.handled.length,
      plan.foreign.map((f) => f.db),
    );
    for (const f of plan.foreign) {
      counters.add('skippedForeignDb', 1, f.db);
      this.deps.metrics?.recordForeign(f.db, f.table);
      this.log.debug(
        { ...f.place, table: f.table, db: f.db },
        'skipped change event of a database not watched (MCS_DATABASES)',
      );
    }
    for (const r of plan.rejected) {
      counters.add('rejected', 1, r.error.code);
      // Poison message: logged with its place, dead-lettered (policy), never blocking the partition.
      this.log.warn(
        { ...r.place, table: r.table, code: r.error.code, details: r.error.details },
        `rejected change event: ${r.error.message}`,
      );
    }
  }

  /**
   * Runs the step until it succeeds; a retryable failure waits (100 ms doubling up to
   * MCS_RETRY_MAX_DELAY_MS) and heartbeats. Resolves false when the consumer is stopping or the
   * partition was revoked meanwhile.
   */
  private async withRetry(
    batch: PartitionBatch,
    handle: BatchHandle,
    step: () => Promise<void>,
  ): Promise<boolean> {
    let delay = 100;
    for (;;) {
      try {
        await step();
        this.outage.succeeded();
        return true;
      } catch (err) {
        if (!isSyncError(err) || !err.retryable) throw err;
        this.deps.counters.add('retries', 1, err.code);
        this.deps.metrics?.retry(err.code);
        const { topic, partition } = batch;
        this.outage.failed(err.message, {
          topic,
          partition,
          offset: batch.records[0]?.offset,
          code: err.code,
        });
        if (!handle.isActive()) return false;
        await sleep(delay);
        delay = Math.min(delay * 2, this.deps.config.retry.maxDelayMs);
        await handle.heartbeat();
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
