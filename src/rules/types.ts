/**
 * The one shape of a table handler. Each file in `consumers/` (TypeScript/JavaScript module with
 * a default export, or YAML) declares a table and the keys a change of one of its rows dirties.
 *
 * Key templates use `{column}` / `{column|yyyymmdd}` / `{column|yyyymm}` placeholders, filled
 * from the before image and from the after image (an update that moves a row dirties the old key
 * and the new one). In a `pattern-delete` template a literal `*` is a SCAN glob; values filled
 * into placeholders are glob-escaped, so `stats:*:brand:{brand_id}` with brand_id 1 never
 * matches brand 10.
 */
import type { Family } from '../core/families';
import type { Op } from '../envelope/types';
import type { ColumnType } from '../core/dates';

export type { Family, ColumnType };
export type Action = 'delete' | 'pattern-delete' | 'refresh';

/** How a refresh rebuilds a key: one SQL query whose rows become a JSON array. */
export interface Loader {
  /** SELECT with `{column}` placeholders, bound as parameters from the row image. */
  readonly sql: string;
}

export interface Condition {
  /** Only for these operations. */
  readonly ops?: readonly Op[];
  /** For updates: only when one of these columns changed (creates/deletes always qualify). */
  readonly changed?: readonly string[];
}

/**
 * Keys filled from related rows instead of this row: for each row of `table` whose `column`
 * equals this row's `on` column (e.g. the `user_auth` rows of a menu), the template is rendered
 * from that related row. Found through the row index (src/row-index/resolve.ts), else a MySQL
 * lookup, else the target's pattern (placeholders as `*`).
 */
export interface Via {
  readonly table: string;
  readonly column: string;
  readonly on: string;
}

export interface KeyTarget {
  /** Key template, e.g. `permissions:user:{user_id}`. */
  readonly key: string;
  /** Key family: decides the logical DB and, for refreshes, the TTL (configuration). */
  readonly family: Family;
  /**
   * `delete`; `pattern-delete` (SCAN + UNLINK); `refresh` (rebuild with `loader` when refresh is
   * enabled for the family, delete otherwise).
   */
  readonly action: Action;
  readonly loader?: Loader;
  /**
   * For `mis-cache-sync verify` of keys without a loader: the key may be cached only while this
   * SELECT returns a row (e.g. a session only for an active user).
   */
  readonly existsOnlyIf?: Loader;
  readonly when?: Condition;
  /** Fill the key from related rows (e.g. the users holding a menu); `delete` targets only. */
  readonly via?: Via;
  /** Why this key depends on the table (shown by logs and `explain`). */
  readonly why?: string;
}

export interface TableRule {
  readonly table: string;
  /**
   * Types of date columns used with a date format, for events without a JSON schema (then a
   * DATE arrives as days since epoch, a DATETIME as epoch ms or µs).
   */
  readonly columns?: Readonly<Record<string, ColumnType>>;
  readonly targets: readonly KeyTarget[];
  /**
   * Row states that deny access (e.g. `{ use_yn: 'N' }`): a snapshot read (`op: r`) of a row in
   * one of them applies the rule's targets even with MCS_SNAPSHOT_INVALIDATES off, because after
   * a binlog gap a re-snapshot may be the only news of a revocation. Each entry maps columns to
   * a value or a list of values; a row is in the state when every column of one entry matches.
   */
  readonly denyingStates?: readonly DenyingState[];
}

export type DenyingState = Readonly<Record<string, Scalar | readonly Scalar[]>>;
export type Scalar = string | number | boolean | null;

/** Identity helper so rule files get type checking and completion. */
export function defineTable(rule: TableRule): TableRule {
  return rule;
}
