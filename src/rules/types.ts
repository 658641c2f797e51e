/**
 * The one shape of a table handler. Each file in `consumers/` default-exports
 * `defineTable({...})`: the table name and the keys a change of one of its rows dirties.
 *
 * Key templates use `{column}` placeholders, filled from the before image and from the after
 * image (an update that moves a row dirties the old key and the new one). In a
 * `pattern-delete` template a literal `*` is a SCAN glob; values filled into placeholders are
 * glob-escaped, so `stats:*:brand:{brand_id}` with brand_id 1 never matches brand 10.
 */
import type { DbRole } from '../config/config';

export type { DbRole };
export type Action = 'delete' | 'pattern-delete';

export interface KeyTarget {
  /** Key template, e.g. `permissions:user:{user_id}`. */
  readonly key: string;
  /** Logical DB role; the number comes from configuration (MCS_REDIS_DB_*). */
  readonly db: DbRole;
  readonly action: Action;
  /** Why this key depends on the table (shown by logs and `explain`). */
  readonly why?: string;
}

export interface TableRule {
  readonly table: string;
  readonly targets: readonly KeyTarget[];
}

/** A rule as loaded: validated, with the file it came from. */
export interface LoadedRule extends TableRule {
  readonly file: string;
}

/** Identity helper so rule files get type checking and completion. */
export function defineTable(rule: TableRule): TableRule {
  return rule;
}

/** One Redis operation a change event calls for. */
export interface KeyOp {
  readonly db: DbRole;
  readonly action: Action;
  /** The key (delete) or the SCAN MATCH glob (pattern-delete). */
  readonly key: string;
}
