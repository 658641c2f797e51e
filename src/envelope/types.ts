/** What the decoding layer hands to the rules: a Debezium change event with plain values. */
export type Op = 'c' | 'u' | 'd' | 'r' | 't';

/** One row image; column values already decoded from Debezium's encodings (see values.ts). */
export type Row = Readonly<Record<string, unknown>>;

export interface SourceInfo {
  readonly connector?: string;
  readonly db?: string;
  readonly table?: string;
  /** Commit time in the database (ms). */
  readonly tsMs?: number;
  readonly snapshot?: string;
  readonly file?: string;
  readonly pos?: number;
  /** Row within one binlog event (a multi-row statement shares file and pos). */
  readonly row?: number;
  readonly gtid?: string;
}

/**
 * Debezium's `transaction` block (`provide.transaction.metadata`): the source transaction (for
 * MariaDB/MySQL with GTIDs its GTID), the event's place in it and in its table's share of it.
 */
export interface TransactionRef {
  readonly id: string;
  readonly totalOrder: number;
  readonly dataCollectionOrder?: number;
}

export interface ChangeEvent {
  readonly op: Op;
  readonly before: Row | null;
  readonly after: Row | null;
  readonly source: SourceInfo;
  /** When the connector processed the change (ms). */
  readonly tsMs?: number;
  /**
   * A flattened record (ExtractNewRecordState): no before image even for updates; the row
   * index supplies the old key columns (src/row-index/resolve.ts).
   */
  readonly flattened?: true;
  /** Present when the connector provides transaction metadata. */
  readonly transaction?: TransactionRef;
}

/** Where a Kafka record sits; every log line and error about a record carries it. */
export interface RecordPlace {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface RawRecord extends RecordPlace {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Kafka append time (ms), when known. */
  readonly timestamp?: string;
  readonly headers?: Readonly<Record<string, Buffer | string | undefined | (Buffer | string)[]>>;
}

export type DecodedRecord =
  { readonly kind: 'tombstone' } | { readonly kind: 'change'; readonly event: ChangeEvent };
