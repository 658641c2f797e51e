/** The Redis operations planned from change events: what the Redis layer executes. */
import type { Family } from '../core/families';

export interface Reason {
  readonly table: string;
  readonly file: string;
  readonly target: number;
  readonly template: string;
  readonly why?: string;
  readonly image: 'before' | 'after' | 'none';
  readonly fields: Readonly<Record<string, unknown>>;
}

interface BaseOp {
  readonly family: Family;
  /** The key (delete, refresh) or the SCAN MATCH glob (pattern-delete). */
  readonly key: string;
  /** Filled only when planning with `explain` on. */
  readonly reason?: Reason;
  /**
   * Set when this pattern stands in for keys the rule could not compute (a column missing or
   * unusable, e.g. renamed): why. The event is dead-lettered too, for the rule to be fixed.
   */
  readonly fallback?: string;
}

export interface DeleteOp extends BaseOp {
  readonly action: 'delete' | 'pattern-delete';
}

export interface RefreshOp extends BaseOp {
  readonly action: 'refresh';
  readonly sql: string;
  readonly params: readonly unknown[];
  /** Position of the change in the source log; an older rebuild never overwrites a newer one. */
  readonly version: string;
}

export type KeyOp = DeleteOp | RefreshOp;

/** Identity of an operation for de-duplication within a batch. */
export function opId(op: KeyOp): string {
  return `${op.family}\u0000${op.action}\u0000${op.key}`;
}

/**
 * Adds an operation to a batch's set: duplicates collapse; of two refreshes of one key the
 * newer version wins (its query sees at least the older change's state).
 */
export function mergeOp(ops: Map<string, KeyOp>, op: KeyOp): void {
  const id = opId(op);
  const prev = ops.get(id);
  if (prev?.action === 'refresh' && op.action === 'refresh' && prev.version >= op.version) return;
  ops.set(id, op);
}
