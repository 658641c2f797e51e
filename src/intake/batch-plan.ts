/**
 * A batch of Kafka records → the de-duplicated Redis operations for all of them, plus the
 * records that cannot be handled (poison messages). Pure logic between decoding and Redis: a
 * transaction touching 1,000 rows of one user becomes one UNLINK of that user's keys.
 */
import type { Config } from '../config/config';
import type { SchemaSource } from '../envelope/avro';
import { decodeAnyKey, decodeAnyRecord } from '../envelope/detect';
import type {
  ChangeEvent,
  Op,
  RawRecord,
  RecordPlace,
  Row,
  SourceInfo,
  TransactionRef,
} from '../envelope/types';
import { SyncError, errorMessage, isSyncError } from '../core/errors';
import type { Mutable } from '../core/mutable';
import { SchemaRegistry } from '../registry/client';
import { planEvent, sourceVersion, type PlanOptions } from '../rules/plan';
import type { RowEvent } from '../row-index/resolve';
import type { RuleSet } from '../rules/registry';
import type { CompiledRule } from '../rules/compile';
import { mergeOp, type KeyOp } from '../rules/ops';
import { patternOps } from '../row-index/fallback';
import { tableOfTopic } from './topics';

export interface Rejected {
  readonly record: RawRecord;
  readonly place: RecordPlace;
  readonly table?: string;
  readonly error: SyncError;
  /** The event's transaction, when it was decoded before being rejected. */
  readonly transaction?: TransactionRef;
}

export interface HandledEvent {
  readonly place: RecordPlace;
  readonly table: string;
  readonly op: Op;
  readonly keys: number;
  /** Commit time in the database (`source.ts_ms`), when the event carries it. */
  readonly sourceTsMs?: number;
  /** Kafka append time of the record (ms), when known. */
  readonly kafkaTsMs?: number;
  /** Debezium's transaction block (transaction metadata on), and the binlog place. */
  readonly transaction?: TransactionRef;
  readonly source?: Pick<SourceInfo, 'file' | 'pos'>;
}

/** A change of a row of a database the service does not watch: skipped, counted. */
export interface ForeignEvent {
  readonly place: RecordPlace;
  readonly db: string;
  readonly table?: string;
}

export interface BatchPlan {
  readonly ops: KeyOp[];
  readonly handled: HandledEvent[];
  readonly tombstones: number;
  readonly rejected: Rejected[];
  /**
   * Changes the resolve step (src/row-index/resolve.ts) looks at: events of `rowTables`, flattened
   * events, and keyed tombstones not preceded by their delete in the batch. Empty without
   * `rowTables` in the context.
   */
  readonly rows: RowEvent[];
  /** Events of other databases (`source.db` not watched): no keys, not rejected. */
  readonly foreign: ForeignEvent[];
}

export interface BatchContext extends PlanOptions {
  readonly rules: RuleSet;
  readonly topicPrefix: string;
  readonly database: string;
  /** Larger records are rejected unparsed. */
  readonly maxMessageBytes?: number;
  /** Writer schemas of Avro records; call `prepare(records)` before planBatch. */
  readonly schemas?: SchemaSource;
  /** Tables the row index, cascades or via targets concern (set by the service at start). */
  readonly rowTables?: ReadonlySet<string>;
  /** Databases whose rows dirty keys (`source.db`); absent: every database. */
  readonly databases?: ReadonlySet<string>;
}

/** The planning context the configuration and rules call for (the service and replay alike). */
export function batchContext(config: Config, rules: RuleSet): BatchContext {
  return {
    ...routingContext(config, rules),
    maxMessageBytes: config.kafka.maxMessageBytes,
    ...(config.registry.url ? { schemas: new SchemaRegistry(config.registry) } : {}),
  };
}

/** What decides an event's table, whether it is skipped, and its plan (no I/O: explain too). */
export type RoutingContext = Pick<
  BatchContext,
  'rules' | 'topicPrefix' | 'database' | 'databases' | keyof PlanOptions
>;

export function routingContext(config: Config, rules: RuleSet): RoutingContext {
  return {
    rules,
    topicPrefix: config.kafka.topicPrefix,
    database: config.kafka.database,
    snapshotInvalidates: config.rules.snapshotInvalidates,
    refreshFamilies: new Set(config.rules.refreshFamilies),
    zones: { business: config.time.zone, database: config.time.databaseZone },
    databases: new Set(config.rules.databases),
  };
}

/** A decoded event's way: skipped (a database not watched) or planned by its table's rule. */
export type Route =
  | { readonly kind: 'foreign'; readonly db: string; readonly table?: string }
  | { readonly kind: 'rule'; readonly rule: CompiledRule };

/**
 * The event's own source wins over the topic name (topics may be routed/renamed); a table
 * without a rule is UNKNOWN_TABLE (thrown).
 */
export function routeEvent(
  event: ChangeEvent,
  topic: string,
  ctx: Pick<RoutingContext, 'rules' | 'topicPrefix' | 'database' | 'databases'>,
): Route {
  const table = event.source.table ?? tableOfTopic(topic, ctx.topicPrefix, ctx.database);
  const db = event.source.db;
  if (db !== undefined && ctx.databases && !ctx.databases.has(db)) {
    return { kind: 'foreign', db, ...(table === undefined ? {} : { table }) };
  }
  const rule = table === undefined ? undefined : ctx.rules.get(table);
  if (!rule) {
    throw new SyncError('UNKNOWN_TABLE', `no rule for table ${JSON.stringify(table ?? null)}`, {
      details: { table },
    });
  }
  return { kind: 'rule', rule };
}

export function planBatch(records: readonly RawRecord[], ctx: BatchContext): BatchPlan {
  const ops = new Map<string, KeyOp>();
  const handled: HandledEvent[] = [];
  const rejected: Rejected[] = [];
  const rows: RowEvent[] = [];
  const deletedKeys = new Set<string>();
  const foreign: ForeignEvent[] = [];
  let tombstones = 0;
  let topicTable: readonly [string, string | undefined] = ['', undefined];
  for (const record of records) {
    const place = { topic: record.topic, partition: record.partition, offset: record.offset };
    // a batch is one partition's: its topic's table is found once
    if (topicTable[0] !== record.topic) {
      topicTable = [record.topic, tableOfTopic(record.topic, ctx.topicPrefix, ctx.database)];
    }
    let table = topicTable[1];
    let transaction: TransactionRef | undefined;
    try {
      const size = record.value?.length ?? 0;
      if (ctx.maxMessageBytes !== undefined && size > ctx.maxMessageBytes) {
        // Not parsed, so the row is unknown: its table's families go as patterns (never a
        // stale key while the event waits in the dead-letter topic), keyed by what the record
        // key tells.
        const rule = table === undefined ? undefined : ctx.rules.get(table);
        if (rule) for (const op of patternOps(rule, keyOrNull(record, ctx) ?? {})) mergeOp(ops, op);
        throw new SyncError(
          'MESSAGE_TOO_LARGE',
          `value of ${size} bytes exceeds ${ctx.maxMessageBytes}`,
          {
            details: { size },
          },
        );
      }
      const decoded = decodeAnyRecord(record, ctx.schemas);
      if (decoded.kind === 'tombstone') {
        tombstones += 1;
        // A tombstone after its delete is redundant; alone (flattened topics, drop mode) it is
        // the delete, resolved from the row index by key: a key that cannot be read is poison,
        // never a delete silently lost.
        const alone = record.key && !deletedKeys.has(keyId(record));
        if (ctx.rowTables && alone && table !== undefined && ctx.rules.get(table)) {
          const key = decodeAnyKey(record, ctx.schemas);
          if (!key) {
            throw new SyncError(
              'ENVELOPE_MALFORMED',
              'tombstone whose key is neither JSON nor registry-framed Avro: the row it deletes is unknown',
            );
          }
          rows.push({
            place,
            table,
            event: null,
            key,
            version: `k:${record.offset}`,
          });
        }
        continue;
      }
      table = decoded.event.source.table ?? table;
      transaction = decoded.event.transaction;
      const route = routeEvent(decoded.event, record.topic, ctx);
      if (route.kind === 'foreign') {
        foreign.push({ place, db: route.db, ...(table === undefined ? {} : { table }) });
        continue;
      }
      const { rule } = route;
      const eventOps = planEvent(decoded.event, rule, ctx);
      let fell = false;
      for (const op of eventOps) {
        mergeOp(ops, op);
        if (op.fallback !== undefined) fell = true;
      }
      if (fell) {
        const fallbacks = eventOps.filter((o) => o.fallback !== undefined);
        // applied (the targets that resolve, patterns for those that do not) and dead-lettered
        throw new SyncError(
          'FIELD_INVALID',
          `${fallbacks[0]?.fallback}; fell back to ${fallbacks.map((o) => o.key).join(', ')}`,
          { details: { table: rule.table, fallbacks: fallbacks.map((o) => o.key) } },
        );
      }
      if (ctx.rowTables && (ctx.rowTables.has(rule.table) || decoded.event.flattened)) {
        const { event } = decoded;
        const version = rowVersion(event.source, event.tsMs, record.offset);
        const row = { place, table: rule.table, event, version };
        // A flattened row needs its key (the index entry to read); an envelope has its images.
        rows.push(
          event.flattened
            ? { ...row, key: decodeAnyKey(record, ctx.schemas) }
            : new EnvelopeRow(row, record, ctx),
        );
      }
      if (decoded.event.op === 'd' && record.key) deletedKeys.add(keyId(record));
      const sourceTsMs = decoded.event.source.tsMs;
      const kafkaTsMs = record.timestamp ? Number(record.timestamp) : NaN; // -1: none
      // Only the fields present, set one by one (no spreads: this runs per event).
      const h: Mutable<HandledEvent> = {
        place,
        table: rule.table,
        op: decoded.event.op,
        keys: eventOps.length,
      };
      if (sourceTsMs !== undefined) h.sourceTsMs = sourceTsMs;
      if (kafkaTsMs > 0) h.kafkaTsMs = kafkaTsMs;
      if (transaction) {
        h.transaction = transaction;
        h.source = decoded.event.source;
      }
      handled.push(h);
    } catch (err) {
      const error = isSyncError(err)
        ? err
        : new SyncError('ENVELOPE_MALFORMED', errorMessage(err), { cause: err });
      rejected.push({
        record,
        place,
        ...(table === undefined ? {} : { table }),
        error,
        ...(transaction ? { transaction } : {}),
      });
    }
  }
  return { ops: [...ops.values()], handled, tombstones, rejected, rows, foreign };
}

/**
 * An envelope's row event: its images name the row, so the record key is decoded only when a
 * step asks for it (most never do: a key decode per event was ~3 % of the service's CPU).
 */
class EnvelopeRow implements RowEvent {
  readonly place: RecordPlace;
  readonly table: string;
  readonly event: ChangeEvent;
  readonly version: string;
  private decodedKey: Row | null | undefined;

  constructor(
    row: Omit<RowEvent, 'key'> & { readonly event: ChangeEvent },
    private readonly record: RawRecord,
    private readonly ctx: Pick<BatchContext, 'schemas'>,
  ) {
    this.place = row.place;
    this.table = row.table;
    this.event = row.event;
    this.version = row.version;
  }

  get key(): Row | null {
    if (this.decodedKey === undefined) this.decodedKey = keyOrNull(this.record, this.ctx);
    return this.decodedKey;
  }
}

function keyOrNull(record: RawRecord, ctx: Pick<BatchContext, 'schemas'>): Row | null {
  try {
    return decodeAnyKey(record, ctx.schemas);
  } catch {
    return null;
  }
}

function keyId(record: RawRecord): string {
  return `${record.topic}\u0000${record.key?.toString('hex') ?? ''}`;
}

/**
 * The row index's order of changes: the binlog position when the event has one; else the commit
 * time, then the Kafka offset (one row's changes share a partition: its key is the primary key).
 */
function rowVersion(
  source: Parameters<typeof sourceVersion>[0],
  tsMs: number | undefined,
  offset: string,
): string {
  const v = sourceVersion(source, tsMs);
  return v.startsWith('t:') ? `${v}:${offset.padStart(20, '0')}` : v;
}
