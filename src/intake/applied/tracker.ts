/**
 * The intake's side of read-your-writes: after a batch was acknowledged by Redis, the applied
 * marks of its events (marks.ts); for the transaction topic, each END's count of the events the
 * service consumes. A transaction topic record that is not a boundary is logged with its place
 * and skipped (like a poison change event): it can only delay answers, never make one early.
 */
import { errorMessage } from '../../core/errors';
import type { WriterSchemas } from '../../envelope/avro';
import { decodeTransactionRecord } from '../../envelope/transaction-record';
import type { RawRecord } from '../../envelope/types';
import type { RuleSet } from '../../rules/registry';
import type { Logger } from '../../telemetry/logger';
import type { BatchPlan } from '../batch-plan';
import { AppliedMarks, type AppliedEvent } from './marks';
import { binlogPosition, parseGtid } from './positions';

export interface AppliedTrackerDeps {
  readonly marks: AppliedMarks;
  readonly rules: RuleSet;
  /** Databases whose rows the service applies (an END's other collections are not waited for). */
  readonly databases?: ReadonlySet<string>;
  readonly logger: Logger;
}

export class AppliedTracker {
  constructor(private readonly deps: AppliedTrackerDeps) {}

  /** The events of an acknowledged batch; call before its offsets are committed. */
  async recordPlan(plan: Pick<BatchPlan, 'handled' | 'rejected'>): Promise<void> {
    const events: AppliedEvent[] = [];
    for (const h of plan.handled) {
      if (!h.transaction) continue;
      const binlog = binlogPosition(h.source?.file, h.source?.pos);
      events.push({
        txId: h.transaction.id,
        totalOrder: h.transaction.totalOrder,
        ...(binlog ? { binlog } : {}),
      });
    }
    for (const r of plan.rejected) {
      if (r.transaction) {
        events.push({
          txId: r.transaction.id,
          totalOrder: r.transaction.totalOrder,
          rejected: true,
        });
      }
    }
    if (events.length === 0) return;
    await this.deps.marks.recordEvents(events);
    await this.deps.marks.advance();
  }

  /** A batch of the transaction topic, in order. */
  async recordBoundaries(records: readonly RawRecord[], schemas?: WriterSchemas): Promise<void> {
    for (const record of records) {
      let boundary;
      try {
        boundary = decodeTransactionRecord(record, schemas);
      } catch (err) {
        this.deps.logger.warn(
          { topic: record.topic, partition: record.partition, offset: record.offset },
          `skipped transaction topic record: ${errorMessage(err)}`,
        );
        continue;
      }
      if (boundary?.status !== 'END') continue;
      const expected = (boundary.dataCollections ?? [])
        .filter((c) => this.consumes(c.dataCollection))
        .reduce((n, c) => n + c.eventCount, 0);
      await this.deps.marks.recordEnd(boundary.id, expected, parseGtid(boundary.id));
    }
    await this.deps.marks.advance();
  }

  /** `db.table` of a watched database and a ruled table. */
  private consumes(dataCollection: string): boolean {
    const dot = dataCollection.lastIndexOf('.');
    const db = dot < 0 ? undefined : dataCollection.slice(0, dot);
    const table = dataCollection.slice(dot + 1);
    if (db !== undefined && this.deps.databases && !this.deps.databases.has(db)) return false;
    return this.deps.rules.get(table) !== undefined;
  }
}
