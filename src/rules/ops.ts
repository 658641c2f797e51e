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

/**
 * Identity of an operation for de-duplication within a batch: family, action and key behind a
 * leading NUL. mergeOp files most operations under their key alone (see there).
 */
export function opId(op: KeyOp): string {
  return `\u0000${op.family}\u0000${op.action}\u0000${op.key}`;
}

/**
 * Adds an operation to a batch's set: duplicates collapse; of two refreshes of one key the
 * newer version wins (its query sees at least the older change's state).
 *
 * The first operation of a key is filed under the key alone, the others of that key (another
 * family or action) under opId; a key starting with NUL always under opId, so the two kinds of
 * id never meet. Most keys have one operation: no id string is joined and hashed for them on
 * the hot path. Only this function writes the set; read it through `values()`.
 */
export function mergeOp(ops: Map<string, KeyOp>, op: KeyOp): void {
  const { key } = op;
  let id = key;
  let prev: KeyOp | undefined;
  if (key.charCodeAt(0) === 0) prev = ops.get((id = opId(op)));
  else {
    prev = ops.get(key);
    if (prev === undefined) {
      ops.set(key, op);
      return;
    }
    if (prev.family !== op.family || prev.action !== op.action) prev = ops.get((id = opId(op)));
  }
  if (prev?.action === 'refresh' && op.action === 'refresh' && prev.version >= op.version) return;
  ops.set(id, op);
}
