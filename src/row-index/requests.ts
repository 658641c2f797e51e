/**
 * What the resolve step asks of the row index and writes to it: the names it speaks in
 * (namespace, primary-key text), the builders of one batch's read and write requests (one per
 * namespace), the read results looked up by key, and the indexed image of a row.
 */
import type { Row } from '../envelope/types';
import type {
  IndexEntry,
  IndexReadRequest,
  IndexReadResult,
  IndexRowWrite,
  IndexWriteRequest,
} from './ports';

/** Primary-key text of a row: the key's values, comma-joined, in key order. */
export function pkText(key: Row): string {
  return Object.values(key)
    .map((v) => String(v))
    .join(',');
}

/**
 * The primary-key text the row's index entry is stored under: the primary-key columns (from the
 * FK graph) of the image, else of the record key; the record key itself only when the primary
 * key is unknown. With `message.key.columns` the record key is not the primary key: rows of one
 * record key would overwrite each other's entries. undefined: the key does not name the row.
 */
export function rowPk(
  primaryKeys: ReadonlyMap<string, readonly string[]>,
  table: string,
  image: Row | null | undefined,
  key: Row | null,
): string | undefined {
  return eventPk(primaryKeys, { table, key }, image);
}

/**
 * rowPk of a row event: its record key is read only when the image does not name the row (an
 * envelope's record key is decoded on demand, see batch-plan.ts).
 */
export function eventPk(
  primaryKeys: ReadonlyMap<string, readonly string[]>,
  r: { readonly table: string; readonly key: Row | null },
  image: Row | null | undefined,
): string | undefined {
  const pk = primaryKeys.get(r.table);
  if (!pk || pk.length === 0) return r.key ? pkText(r.key) : undefined;
  return pkOf(image, pk) ?? pkOf(r.key, pk);
}

/** The primary-key text of the row, when it holds every primary-key column. */
function pkOf(row: Row | null | undefined, pk: readonly string[]): string | undefined {
  if (!row) return undefined;
  let text = '';
  for (let i = 0; i < pk.length; i++) {
    const v = row[pk[i] as string];
    if (v === undefined || v === null) return undefined;
    text = i === 0 ? String(v) : `${text},${String(v)}`;
  }
  return text;
}

export function nsOf(prefix: string, table: string): string {
  return `${prefix}.${table}`;
}

/** The indexed columns of a row (bigints as text, for JSON). */
export function pick(row: Row, columns: readonly string[]): Row {
  const out: Record<string, unknown> = {};
  for (const c of columns) {
    const v = row[c];
    if (v === undefined) continue;
    out[c] = typeof v === 'bigint' ? v.toString() : v;
  }
  return out;
}

/**
 * Whether two images hold the same indexed content: every column present in both (a minimal
 * row image leaves columns out: then not the same) with equal values (objects by their JSON).
 */
export function sameColumns(a: Row, b: Row, columns: readonly string[]): boolean {
  for (const c of columns) {
    const x = a[c];
    const y = b[c];
    if (x === undefined || y === undefined) return false;
    if (x === y) continue;
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false;
    if (JSON.stringify(x) !== JSON.stringify(y)) return false;
  }
  return true;
}

/** Reverse-set members of a row: `column:value` of each non-null ref column. */
export function refsOf(row: Row, columns: readonly string[]): string[] {
  const out: string[] = [];
  for (const c of columns) {
    const v = row[c];
    if (v !== undefined && v !== null) out.push(`${c}:${String(v)}`);
  }
  return out;
}

export class ReadBuilder {
  private readonly byNs = new Map<
    string,
    { pks: Set<string>; refs: Map<string, [string, string]> }
  >();
  ns(ns: string) {
    let b = this.byNs.get(ns);
    if (!b) this.byNs.set(ns, (b = { pks: new Set(), refs: new Map() }));
    return b;
  }
  entry(ns: string, pk: string) {
    this.ns(ns).pks.add(pk);
  }
  ref(ns: string, column: string, value: string) {
    this.ns(ns).refs.set(`${column}\u0000${value}`, [column, value]);
  }
  requests(): IndexReadRequest[] {
    // Only namespaces with something to look up: an envelope batch reads nothing.
    return [...this.byNs]
      .filter(([, b]) => b.pks.size > 0 || b.refs.size > 0)
      .map(([ns, b]) => ({ ns, pks: [...b.pks], refs: [...b.refs.values()] }));
  }
}

export class ReadResults {
  private readonly byNs = new Map<string, { req: IndexReadRequest; res: IndexReadResult }>();
  constructor(requests: readonly IndexReadRequest[], results: readonly IndexReadResult[]) {
    requests.forEach((req, i) => {
      const res = results[i];
      if (res) this.byNs.set(req.ns, { req, res });
    });
  }
  complete(ns: string): boolean {
    return this.byNs.get(ns)?.res.complete ?? false;
  }
  /** The entry (null: never seen), or undefined when it was not read. */
  entry(ns: string, pk: string): IndexEntry | null | undefined {
    const b = this.byNs.get(ns);
    if (!b) return undefined;
    const i = b.req.pks.indexOf(pk);
    return i < 0 ? undefined : (b.res.entries[i] ?? null);
  }
  ref(
    ns: string,
    column: string,
    value: string,
  ): readonly { pk: string; entry: IndexEntry | null }[] {
    const b = this.byNs.get(ns);
    if (!b) return [];
    const i = b.req.refs.findIndex(([c, v]) => c === column && v === value);
    return i < 0 ? [] : (b.res.refs[i] ?? []);
  }
}

/**
 * Whether a partition's version steps down from `a` to `b`: lower, or of another kind (a version's
 * kind is its first letter, `p:`, `g:` or `t:`, as storage.ts compares it).
 */
function drops(a: string, b: string): boolean {
  return a.charCodeAt(0) !== b.charCodeAt(0) || b < a;
}

export class WriteBuilder {
  private readonly byNs = new Map<string, IndexWriteRequest>();
  private get(ns: string): IndexWriteRequest {
    let w = this.byNs.get(ns);
    if (!w) this.byNs.set(ns, (w = { ns, rows: [] }));
    return w;
  }
  row(ns: string, row: IndexRowWrite) {
    this.get(ns).rows.push(row);
  }
  complete(ns: string, how: 'set' | 'clear') {
    this.get(ns).complete = how;
  }
  /**
   * A record of the table's own partition and its source version (binlog position, GTID, time).
   * Only the records that can change what storage.ts finds are kept: the first, the last, and
   * both records of every step where the version goes down or changes kind. Between two kept
   * records the versions only rise within one kind, so storage compares the same pairs as with
   * every record, wherever its stored head falls (a redelivered batch: the head is one of these
   * records). Most batches send two records instead of one per event.
   */
  stream(ns: string, partition: number, offset: string, version: string) {
    if (!/^[pgt]:/.test(version)) return; // tombstones' and cascades' versions are not the source's
    const w = this.get(ns);
    const s = (w.stream ??= { partition, records: [] });
    if (s.partition !== partition) return;
    const { records } = s;
    const n = records.length;
    const last = records[n - 1];
    // The last record stays when it is the first one, or the one a drop came down to (then its
    // predecessor in the list is the record just before it).
    if (last !== undefined && !drops(last[1], version)) {
      const before = records[n - 2];
      if (before !== undefined && !drops(before[1], last[1])) records.pop();
    }
    records.push([offset, version]);
  }
  /** A record of the table's topic: where it stands in a snapshot (see SnapshotProgress). */
  snapshot(
    ns: string,
    mark: {
      partition: number;
      first?: boolean;
      last?: boolean;
      partitions?: number;
      passed: boolean;
    },
  ) {
    const w = this.get(ns);
    const s = (w.snapshot ??= { first: false, last: false, passed: [] });
    if (mark.first) Object.assign(s, { first: true, last: false, passed: [] });
    if (mark.last) {
      s.last = true;
      if (mark.partitions !== undefined) s.partitions = mark.partitions;
    }
    if (mark.passed && !s.passed.includes(mark.partition)) s.passed.push(mark.partition);
  }
  requests(): IndexWriteRequest[] {
    return [...this.byNs.values()];
  }
}
