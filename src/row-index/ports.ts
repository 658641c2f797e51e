/**
 * The row index's ports: what the resolve step asks of the index's storage (storage.ts, one
 * Redis round trip per call) and of MySQL (related.ts). Interfaces, so the step runs on plain
 * fakes in unit tests and the storage depends on them rather than on the step.
 */
import type { Row } from '../envelope/types';

export interface IndexEntry {
  readonly v: string;
  /** The indexed columns as last seen; null once the row was deleted. */
  readonly row: Row | null;
}

export interface IndexReadRequest {
  /** Namespace: `<topic prefix>.<table>`. */
  readonly ns: string;
  readonly pks: readonly string[];
  /** Reverse lookups: [column, value as text]. */
  readonly refs: readonly (readonly [string, string])[];
}

export interface IndexReadResult {
  /** Whether the table's index is complete (a snapshot of it was indexed, no truncate since). */
  readonly complete: boolean;
  readonly entries: readonly (IndexEntry | null)[];
  readonly refs: readonly (readonly { pk: string; entry: IndexEntry | null }[])[];
}

export interface IndexRowWrite {
  readonly pk: string;
  readonly v: string;
  readonly row: Row | null;
  /** Reverse-set members of the row: `column:value`. */
  readonly refs: readonly string[];
  /** The record's offset, for the row's own change (its epoch when the batch crossed a reset). */
  readonly offset?: string;
  /** An entry already holding this content is kept, version included (IndexedTable.keepsSame). */
  readonly keepSame?: boolean;
}

/** A partition's records of the table, in offset order: [offset, source version]. */
export interface StreamMarks {
  readonly partition: number;
  readonly records: [string, string][];
}

/** A snapshot's progress over the topic's partitions (storage.ts ends it when all passed). */
export interface SnapshotProgress {
  /** The snapshot's first record: a new snapshot, the previous progress forgotten. */
  first: boolean;
  /** Its `last` record was indexed. */
  last: boolean;
  /** Partitions of the topic (with `last`); unknown (undefined): the snapshot never ends. */
  partitions?: number;
  /** Partitions that passed it: its `last` record, or a streamed change. */
  passed: number[];
}

export interface IndexWriteRequest {
  readonly ns: string;
  readonly rows: IndexRowWrite[];
  /**
   * set: complete from here on (a truncate emptied the table); clear: incomplete; rebuilt: every
   * row was rewritten since the snapshot's `first` (complete unless something was evicted since).
   */
  complete?: 'set' | 'clear' | 'rebuilt';
  snapshot?: SnapshotProgress;
  /** Where the table's partition stands (storage.ts detects a binlog numbered anew). */
  stream?: StreamMarks;
}

/** Storage of the row index (src/row-index/storage.ts): one round trip per call. */
export interface RowIndexPort {
  read(requests: readonly IndexReadRequest[]): Promise<IndexReadResult[]>;
  write(requests: readonly IndexWriteRequest[]): Promise<void>;
}

/** Related rows straight from MySQL (when the index is not complete). */
export interface RelatedRowsPort {
  rowsWhere(
    table: string,
    column: string,
    values: readonly unknown[],
    columns: readonly string[],
  ): Promise<Row[]>;
}
