/**
 * What the resolve step takes (a batch's row events and the context they are planned in), and
 * the state its parts (old images, cascades, vias) share while one batch is resolved: the index
 * reads, the writes being built, the related rows MySQL gave, and where key operations,
 * fallbacks and the related-row count go. Kept apart from resolve.ts so the parts need not
 * import the entry.
 */
import type { ChangeEvent, RecordPlace, Row } from '../envelope/types';
import type { CompiledRule } from '../rules/compile';
import type { KeyOp } from '../rules/ops';
import type { PlanOptions } from '../rules/plan';
import type { RuleSet } from '../rules/registry';
import type { RowModel } from './model';
import type { ReadResults, WriteBuilder } from './requests';

/** A decoded change (or a keyed tombstone) of a ruled table, in batch order. */
export interface RowEvent {
  readonly place: RecordPlace;
  readonly table: string;
  /** null: a tombstone that did not follow its delete in the batch (delete by key). */
  readonly event: ChangeEvent | null;
  /** The record key (primary-key columns), when it had one. */
  readonly key: Row | null;
  /** Orders changes of one row: binlog file/position, else commit time + offset. */
  readonly version: string;
}

export interface ResolveContext extends PlanOptions {
  readonly rules: RuleSet;
  readonly model: RowModel;
  readonly topicPrefix: string;
  /** Partitions of a change topic (Kafka metadata at start); undefined: unknown. */
  readonly partitionsOf?: (topic: string) => number | undefined;
}

/** Why the index could not answer (the `reason` label of mis_cache_sync_fallbacks_total). */
export type FallbackReason =
  | 'entry-missing'
  | 'key-not-primary'
  | 'key-unknown'
  | 'children-unknown'
  | 'default-unknown'
  | 'related-unknown'
  | 'resolve-failed'
  | 'column-unreadable';

/** Drops every key family of `rule` as a pattern (fallback.ts), noting why. */
export type Fallback = (
  rule: CompiledRule,
  known: Row,
  why: string,
  reason: FallbackReason,
) => void;

/** Related rows of `via` targets found in MySQL, by viaRowsId (via-mysql.ts). */
export type ViaRows = ReadonlyMap<string, readonly Row[]>;

export function viaRowsId(table: string, column: string, value: string): string {
  return `${table}\u0000${column}\u0000${value}`;
}

/** One batch's resolve in progress. */
export interface ResolveStep {
  readonly ctx: ResolveContext;
  readonly got: ReadResults;
  readonly writes: WriteBuilder;
  readonly viaRows: ViaRows;
  /** Merges key operations into the batch's. */
  readonly add: (ops: readonly KeyOp[]) => void;
  readonly fallback: Fallback;
  /** Related rows found so far (cascaded children, via rows). */
  related: number;
}

/** A delete of `before`, planned as if it had arrived. */
export function deleteOf(before: Row): ChangeEvent {
  return { op: 'd', before, after: null, source: {} };
}
