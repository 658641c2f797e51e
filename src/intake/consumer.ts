/**
 * Kafka intake: a consumer-group member that feeds each partition batch through
 * decode → plan → Redis, and commits a batch's offsets only after Redis acknowledged every
 * operation of it. While Redis is down the batch is retried with backoff (heartbeats keep the
 * group membership), so nothing is skipped and nothing is committed early.
 */
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Config } from '../config/config';
import type { RawRecord } from '../envelope/types';
import { isSyncError } from '../errors';
import type { KeyExecutor } from '../redis/executor';
import type { RuleSet } from '../rules/registry';
import type { Counters } from '../telemetry/counters';
import type { Logger } from '../telemetry/logger';
import { planBatch, type BatchContext, type BatchPlan } from './batch-plan';
import { OutageReporter } from './outage';
import { topicFor } from './topics';

export interface IntakeDeps {
  readonly kafka: Kafka;
  readonly config: Config;
  readonly rules: RuleSet;
  readonly executor: KeyExecutor;
  readonly counters: Counters;
  readonly logger: Logger;
}

export class ChangeIntake {
  private readonly consumer: Consumer;
  private readonly ctx: BatchContext;
  private readonly outage: OutageReporter;
  private readonly log: Logger;

  constructor(private readonly deps: IntakeDeps) {
    const { config } = deps;
    this.log = deps.logger.child({ component: 'intake' });
    this.consumer = deps.kafka.consumer({
      groupId: config.kafka.groupId,
      sessionTimeout: config.kafka.sessionTimeoutMs,
      heartbeatInterval: Math.floor(config.kafka.sessionTimeoutMs / 10),
    });
    this.ctx = {
      rules: deps.rules,
      topicPrefix: config.kafka.topicPrefix,
      database: config.kafka.database,
      snapshotInvalidates: config.rules.snapshotInvalidates,
      refreshFamilies: new Set(config.rules.refreshFamilies),
      zones: { business: config.time.zone, database: config.time.databaseZone },
    };
    this.outage = new OutageReporter(this.log, config.retry.reminderMs);
  }

  get topics(): string[] {
    const { topicPrefix, database } = this.deps.config.kafka;
    return this.deps.rules.tables.map((t) => topicFor(topicPrefix, database, t));
  }

  /** Resolves once the consumer has joined its group and is fetching. */
  async start(): Promise<void> {
    const joined = new Promise<void>((resolve) => {
      const off = this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
        this.log.info(
          { memberId: e.payload.memberId, assigned: e.payload.memberAssignment },
          'joined consumer group',
        );
        off();
        resolve();
      });
    });
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: this.topics,
      fromBeginning: this.deps.config.kafka.fromBeginning,
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    await joined;
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0) return;
    const records: RawRecord[] = batch.messages.map((m) => ({
      topic: batch.topic,
      partition: batch.partition,
      offset: m.offset,
      key: m.key,
      value: m.value,
    }));
    const plan = planBatch(records, this.ctx);
    this.report(plan);
    const applied = await this.applyWithRetry(plan, payload);
    if (!applied) return; // stopping or rebalanced: leave the batch uncommitted for redelivery
    const last = batch.messages[batch.messages.length - 1];
    if (last) payload.resolveOffset(last.offset);
    await payload.commitOffsetsIfNecessary(payload.uncommittedOffsets());
    await payload.heartbeat();
  }

  private report(plan: BatchPlan): void {
    const { counters } = this.deps;
    counters.add('batches');
    counters.add('tombstones', plan.tombstones);
    for (const h of plan.handled) {
      counters.add('events', 1, `${h.table}:${h.op}`);
      if (h.op === 'r' && h.keys === 0) counters.add('skippedSnapshot');
    }
    for (const r of plan.rejected) {
      counters.add('rejected', 1, r.error.code);
      // Poison message: logged with its place and skipped (the partition must move on).
      this.log.warn(
        { ...r.place, table: r.table, code: r.error.code, details: r.error.details },
        `rejected change event: ${r.error.message}`,
      );
    }
  }

  private async applyWithRetry(plan: BatchPlan, payload: EachBatchPayload): Promise<boolean> {
    const { batch } = payload;
    const { executor, counters, config } = this.deps;
    let delay = 100;
    for (;;) {
      try {
        const result = await executor.apply(plan.ops);
        this.outage.succeeded();
        counters.add('keysDeleted', result.deleted);
        counters.add('patternScans', result.scans);
        counters.add('keysRefreshed', result.refreshed);
        counters.add('refreshFallbacks', result.refreshFallbacks);
        if (plan.ops.length > 0) {
          this.log.debug(
            {
              topic: batch.topic,
              partition: batch.partition,
              offset: batch.lastOffset(),
              ops: plan.ops.length,
              deleted: result.deleted,
            },
            'batch applied',
          );
        }
        return true;
      } catch (err) {
        if (!isSyncError(err) || !err.retryable) throw err;
        counters.add('redisRetries');
        this.outage.failed(err.message, {
          topic: batch.topic,
          partition: batch.partition,
          offset: batch.firstOffset(),
          code: err.code,
        });
        if (!payload.isRunning() || payload.isStale()) return false;
        await sleep(delay);
        delay = Math.min(delay * 2, config.retry.maxDelayMs);
        await payload.heartbeat();
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
