/**
 * The resolve step between planning and Redis: what a change event alone cannot say, asked of
 * the row index (and of MySQL) once per Kafka batch. The planner (plan.ts) stays pure; this
 * step takes its I/O through two injected ports and returns extra key operations plus the index
 * writes that must be acknowledged before the batch is committed.
 *
 * - Flattened updates (no before image): the old key columns come from the index entry of the
 *   primary key, so a moved row dirties the old keys too.
 * - Tombstones not preceded by their delete in the batch (flattened topics in drop mode): the
 *   index entry of the key gives the row's keys.
 * - Foreign-key cascades (CASCADE / SET NULL run below the binlog): the children of a deleted or
 *   re-keyed parent come from the index's reverse sets, and are planned as if their own delete
 *   or update had arrived.
 * - `via` targets (menus → the users holding the menu): related rows from the index, else MySQL.
 *
 * Fallback, never silently nothing: when the index cannot answer (entry missing while the
 * table's index is not known complete, multi-column key, …) every key family of the table
 * concerned is dropped as a pattern, placeholders the event does not give becoming `*`.
 */
import type { ChangeEvent, RecordPlace, Row } from '../envelope/types';
import { SyncError, errorMessage } from '../core/errors';
import { isSilent, type FkAction } from './fk-graph';
import type { CompiledRule, CompiledTarget } from '../rules/compile';
import { mergeOp, type KeyOp } from '../rules/ops';
import { applies, planEvent, type PlanOptions } from '../rules/plan';
import type { RuleSet } from '../rules/registry';
import type { Cascade, RowModel } from './model';
import { renderTemplate } from '../rules/template';
import type {
  IndexEntry,
  IndexReadRequest,
  IndexReadResult,
  IndexRowWrite,
  IndexWriteRequest,
  RelatedRowsPort,
  RowIndexPort,
} from './ports';

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
}

export interface Resolution {
  readonly ops: KeyOp[];
  readonly writes: IndexWriteRequest[];
  /** What fell back to patterns, and why (logged, counted). */
  readonly fallbacks: string[];
  /** Related rows found (cascaded children, via rows). */
  readonly related: number;
}

export const NO_RESOLUTION: Resolution = { ops: [], writes: [], fallbacks: [], related: 0 };

/** Primary-key text of a row: the key's values, comma-joined, in key order. */
export function pkText(key: Row): string {
  return Object.values(key)
    .map((v) => String(v))
    .join(',');
}

export function nsOf(prefix: string, table: string): string {
  return `${prefix}.${table}`;
}

/** Whether the batch needs the resolve step at all (cheap check on the hot path). */
export function needsResolve(rows: readonly RowEvent[], model: RowModel): boolean {
  return rows.some(
    (r) =>
      r.event === null ||
      r.event.flattened === true ||
      model.indexed.has(r.table) ||
      model.cascadesByParent.has(r.table) ||
      model.vias.has(r.table),
  );
}

export async function resolveRows(
  rows: readonly RowEvent[],
  ctx: ResolveContext,
  index: RowIndexPort,
  related?: RelatedRowsPort,
): Promise<Resolution> {
  const { model } = ctx;
  const reads = new ReadBuilder();
  const ns = (t: string) => nsOf(ctx.topicPrefix, t);

  // 1. What to read: entries of keys without a before image, reverse sets of parents and vias.
  for (const r of rows) {
    const indexed = model.indexed.has(r.table);
    if (indexed) reads.ns(ns(r.table));
    if (indexed && r.key && (r.event === null || (r.event.flattened && r.event.op === 'u'))) {
      reads.entry(ns(r.table), pkText(r.key));
    }
    const before = r.event?.before ?? r.key;
    for (const c of model.cascadesByParent.get(r.table) ?? []) {
      if (c.handling !== 'row-index') continue;
      const value = before?.[c.edge.parentColumns[0] as string];
      if (value !== undefined && value !== null) {
        reads.ref(ns(c.edge.child), c.edge.childColumns[0] as string, String(value));
      }
    }
    for (const vt of model.vias.get(r.table) ?? []) {
      for (const image of [before, r.event?.after]) {
        const value = image?.[vt.via.on];
        if (value !== undefined && value !== null) {
          reads.ref(ns(vt.via.table), vt.via.column, String(value));
        }
      }
    }
  }
  const requests = reads.requests();
  const results = requests.length > 0 ? await index.read(requests) : [];
  const got = new ReadResults(requests, results);

  // 2. Via lookups in MySQL where the related table's index is not complete.
  const mysqlRows = await viaFromMysql(rows, ctx, got, related);

  // 3. Operations and index writes, event by event.
  const ops = new Map<string, KeyOp>();
  const writes = new WriteBuilder();
  const fallbacks: string[] = [];
  let relatedCount = 0;
  const add = (list: readonly KeyOp[]) => list.forEach((op) => mergeOp(ops, op));
  const fallback = (rule: CompiledRule, known: Row, why: string) => {
    fallbacks.push(`${rule.table}: ${why}`);
    add(patternOps(rule, known));
  };

  for (const r of rows) {
    const rule = ctx.rules.get(r.table);
    if (!rule) continue;
    try {
      const idx = model.indexed.get(r.table);
      const tns = ns(r.table);
      const keyRow = r.key ?? {};
      const entry = idx && r.key ? got.entry(tns, pkText(r.key)) : undefined;
      const known: Row | undefined = entry?.row ? { ...entry.row, ...keyRow } : undefined;
      const pkOfRow = (row: Row | null) =>
        r.key ? pkText(r.key) : pkFromModel(model, r.table, row);

      let before: Row | null | undefined = r.event?.before ?? undefined;
      let deleted = r.event?.op === 'd';
      if (r.event === null) {
        // Tombstone: a delete by key.
        deleted = true;
        if (idx) {
          if (known) {
            before = known;
            add(planEvent(del(known), rule, ctx));
            writes.row(tns, { pk: pkText(keyRow), v: `${entry?.v ?? ''}~`, row: null, refs: [] });
          } else if (!entry && !got.complete(tns)) {
            before = keyRow;
            fallback(rule, keyRow, `tombstone of ${describeKey(keyRow)} not in the row index`);
          } else {
            before = null; // already deleted (the envelope's delete), or never existed
          }
        } else {
          before = keyRow;
          try {
            add(planEvent(del(keyRow), rule, ctx));
          } catch {
            fallback(rule, keyRow, `tombstone of ${describeKey(keyRow)}: key columns unknown`);
          }
        }
      } else if (r.event.flattened && r.event.op === 'u' && idx) {
        if (known) {
          before = known;
          add(planEvent({ ...r.event, before: known }, rule, ctx));
        } else if (!entry && !got.complete(tns)) {
          fallback(rule, keyRow, `flattened update of ${describeKey(keyRow)} not in the row index`);
        }
      }

      if (before && r.event?.op !== 'r' && r.event?.op !== 't') {
        const after = r.event?.after ?? null;
        for (const c of model.cascadesByParent.get(r.table) ?? []) {
          relatedCount += cascade(
            c,
            before,
            after,
            deleted,
            r.version,
            ctx,
            got,
            writes,
            add,
            fallback,
          );
        }
      }
      if (r.event?.op !== 't' && (r.event?.op !== 'r' || ctx.snapshotInvalidates)) {
        relatedCount += vias(rule, r, before ?? null, ctx, got, mysqlRows, add, fallback);
      }

      // The row's own index entry.
      if (idx && r.event) {
        const e = r.event;
        // After a truncate the table is empty and every row from here on arrives as a change,
        // so the index is complete again; entries of truncated rows may remain, and only cause
        // extra invalidations (their keys), never missed ones.
        if (e.op === 't') writes.complete(tns, 'set');
        else {
          const image = e.op === 'd' ? null : e.after;
          const pk = pkOfRow(e.after ?? e.before);
          if (pk !== undefined) {
            writes.row(tns, {
              pk,
              v: r.version,
              row: image ? pick(image, idx.columns) : null,
              refs: image ? refsOf(image, idx.refColumns) : [],
            });
          }
          const snap = e.source.snapshot;
          if (e.op === 'r' && (snap === 'last_in_data_collection' || snap === 'last')) {
            writes.complete(tns, 'set');
          }
        }
      }
    } catch (err) {
      // A row the index cannot plan (say a column a rule needs missing from an old entry) must
      // not stop the partition: retryable failures retry, the rest fall back to patterns.
      if (err instanceof SyncError && err.retryable) throw err;
      fallback(rule, r.key ?? {}, `resolve failed: ${errorMessage(err)}`);
    }
  }
  return { ops: [...ops.values()], writes: writes.requests(), fallbacks, related: relatedCount };
}

function del(before: Row): ChangeEvent {
  return { op: 'd', before, after: null, source: {} };
}

/** Children of a deleted / re-keyed parent, planned as their own delete or update. */
function cascade(
  c: Cascade,
  before: Row,
  after: Row | null,
  deleted: boolean,
  version: string,
  ctx: ResolveContext,
  got: ReadResults,
  writes: WriteBuilder,
  add: (ops: readonly KeyOp[]) => void,
  fallback: (rule: CompiledRule, known: Row, why: string) => void,
): number {
  const { edge } = c;
  const parentCol = edge.parentColumns[0] as string;
  const childCol = edge.childColumns[0] as string;
  let action: FkAction;
  if (deleted) action = edge.onDelete;
  else if (after && parentCol in after && !same(before[parentCol], after[parentCol])) {
    action = edge.onUpdate;
  } else return 0;
  if (!isSilent(action)) return 0;
  const childRule = ctx.rules.get(edge.child);
  if (!childRule) return 0;
  const value = before[parentCol];
  if (value === null) return 0;
  const cns = nsOf(ctx.topicPrefix, edge.child);
  const known: Row = value === undefined ? {} : { [childCol]: value };
  const why = `${edge.name} ${deleted ? 'ON DELETE' : 'ON UPDATE'} ${action} of ${edge.parent} ${String(value)}`;
  if (c.handling !== 'row-index' || value === undefined || !got.complete(cns)) {
    fallback(childRule, known, `${why}: children not known from the row index`);
    return 0;
  }
  if (action === 'SET DEFAULT') {
    fallback(childRule, known, `${why}: default value unknown`);
    return 0;
  }
  const children = got.ref(cns, childCol, String(value));
  const idx = ctx.model.indexed.get(edge.child);
  for (const child of children) {
    const row = child.entry?.row;
    if (!row) continue;
    let event: ChangeEvent;
    if (deleted && action === 'CASCADE') event = del(row);
    else {
      const newValue = action === 'SET NULL' ? null : (after?.[parentCol] ?? null);
      event = { op: 'u', before: row, after: { ...row, [childCol]: newValue }, source: {} };
    }
    add(planEvent(event, childRule, ctx));
    const image = event.after ? pick(event.after, idx?.columns ?? []) : null;
    writes.row(cns, {
      pk: child.pk,
      v: version,
      row: image,
      refs: image ? refsOf(image, idx?.refColumns ?? []) : [],
    });
  }
  return children.length;
}

/** `via` targets: keys filled from the related rows of each image's `on` value. */
function vias(
  rule: CompiledRule,
  r: RowEvent,
  before: Row | null,
  ctx: ResolveContext,
  got: ReadResults,
  mysqlRows: Map<string, Row[]>,
  add: (ops: readonly KeyOp[]) => void,
  fallback: (rule: CompiledRule, known: Row, why: string) => void,
): number {
  let count = 0;
  for (const vt of ctx.model.vias.get(rule.table) ?? []) {
    const target = rule.targets[vt.target] as CompiledTarget;
    const event: ChangeEvent = r.event
      ? { ...r.event, before: before ?? r.event.before }
      : del(before ?? {});
    if (!applies(target, event)) continue;
    const values = new Set<string>();
    for (const image of [event.before, event.after]) {
      const v = image?.[vt.via.on];
      if (v !== undefined && v !== null) values.add(String(v));
    }
    const rns = nsOf(ctx.topicPrefix, vt.via.table);
    for (const value of values) {
      let rows: Row[] | undefined;
      if (got.complete(rns)) {
        rows = got
          .ref(rns, vt.via.column, value)
          .flatMap((c) => (c.entry?.row ? [c.entry.row] : []));
      } else rows = mysqlRows.get(`${vt.via.table}\u0000${vt.via.column}\u0000${value}`);
      if (!rows) {
        fallback(
          { ...rule, targets: [{ ...target, via: undefined }] } as CompiledRule,
          {},
          `${vt.via.table} rows of ${vt.via.column} ${value} unknown (row index incomplete, no MySQL)`,
        );
        continue;
      }
      count += rows.length;
      for (const row of rows) {
        const key = renderTemplate(target.template, row, { escapeGlob: false, zones: ctx.zones });
        if (key !== null) add([{ family: target.family, action: 'delete', key }]);
      }
    }
  }
  return count;
}

async function viaFromMysql(
  rows: readonly RowEvent[],
  ctx: ResolveContext,
  got: ReadResults,
  related: RelatedRowsPort | undefined,
): Promise<Map<string, Row[]>> {
  const out = new Map<string, Row[]>();
  if (!related) return out;
  const wanted = new Map<
    string,
    { table: string; column: string; columns: Set<string>; values: Set<string> }
  >();
  for (const r of rows) {
    if (r.event?.op === 't' || (r.event?.op === 'r' && !ctx.snapshotInvalidates)) continue;
    for (const vt of ctx.model.vias.get(r.table) ?? []) {
      if (got.complete(nsOf(ctx.topicPrefix, vt.via.table))) continue;
      const id = `${vt.via.table}\u0000${vt.via.column}`;
      let w = wanted.get(id);
      if (!w) {
        w = { table: vt.via.table, column: vt.via.column, columns: new Set(), values: new Set() };
        wanted.set(id, w);
      }
      const target = ctx.rules.get(r.table)?.targets[vt.target];
      for (const f of target?.template.fields ?? []) w.columns.add(f);
      for (const image of [r.event?.before ?? r.key, r.event?.after]) {
        const v = image?.[vt.via.on];
        if (v !== undefined && v !== null) w.values.add(String(v));
      }
    }
  }
  for (const w of wanted.values()) {
    if (w.values.size === 0) continue;
    let found: Row[];
    try {
      found = await related.rowsWhere(w.table, w.column, [...w.values], [...w.columns, w.column]);
    } catch (err) {
      throw new SyncError('MYSQL_UNAVAILABLE', `mysql lookup of ${w.table}: ${errorMessage(err)}`, {
        retryable: true,
        cause: err,
      });
    }
    for (const v of w.values) out.set(`${w.table}\u0000${w.column}\u0000${v}`, []);
    for (const row of found) {
      const id = `${w.table}\u0000${w.column}\u0000${String(row[w.column])}`;
      out.get(id)?.push(row);
    }
  }
  return out;
}

/**
 * Every key family of the rule as a pattern: placeholders the known columns fill stay exact
 * (glob-escaped), the others become `*`. A target fully determined by the known columns keeps
 * its own action (a refresh deletes: readers rebuild).
 */
export function patternOps(rule: CompiledRule, known: Row): KeyOp[] {
  const out: KeyOp[] = [];
  for (const target of rule.targets) {
    const fields = target.template.fields;
    const complete = !target.via && fields.every((f) => f in known && known[f] !== undefined);
    const pattern = !complete || target.action === 'pattern-delete';
    const key = renderTemplate(target.template, target.via ? {} : known, {
      escapeGlob: pattern,
      wildcardMissing: true,
      ...(rule.columns ? { columnTypes: rule.columns } : {}),
    });
    if (key === null) continue;
    out.push({ family: target.family, action: pattern ? 'pattern-delete' : 'delete', key });
  }
  return out;
}

function pick(row: Row, columns: readonly string[]): Row {
  const out: Record<string, unknown> = {};
  for (const c of columns) {
    const v = row[c];
    if (v === undefined) continue;
    out[c] = typeof v === 'bigint' ? v.toString() : v;
  }
  return out;
}

function refsOf(row: Row, columns: readonly string[]): string[] {
  const out: string[] = [];
  for (const c of columns) {
    const v = row[c];
    if (v !== undefined && v !== null) out.push(`${c}:${String(v)}`);
  }
  return out;
}

function pkFromModel(model: RowModel, table: string, row: Row | null): string | undefined {
  const pk = model.primaryKeys.get(table);
  if (!pk || !row || pk.some((c) => row[c] === undefined)) return undefined;
  return pk.map((c) => String(row[c])).join(',');
}

function describeKey(key: Row): string {
  return JSON.stringify(key, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

function same(a: unknown, b: unknown): boolean {
  return a === b || String(a) === String(b);
}

class ReadBuilder {
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

class ReadResults {
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

class WriteBuilder {
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
  requests(): IndexWriteRequest[] {
    return [...this.byNs.values()];
  }
}
