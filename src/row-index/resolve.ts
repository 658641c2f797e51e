/**
 * The resolve step between planning and Redis: what a change event alone cannot say, asked of
 * the row index (and of MySQL) once per Kafka batch. The planner (rules/plan.ts) stays pure;
 * this step takes its I/O through two injected ports (ports.ts) and returns extra key operations
 * plus the index writes that must be acknowledged before the batch is committed.
 *
 * This file is the entry: it gathers the batch's reads, then for each event in batch order
 * - its old image when the event lacks one: tombstones, flattened updates (old-image.ts);
 * - the foreign-key cascades below the binlog, children of a deleted or re-keyed parent
 *   (cascades.ts);
 * - its `via` targets, related rows from the index, else MySQL (vias.ts, via-mysql.ts);
 * - its own index entry.
 * Fallback, never silently nothing: when the index cannot answer, every key family of the table
 * concerned is dropped as a pattern (fallback.ts).
 */
import { SyncError, errorMessage } from '../core/errors';
import type { CompiledRule } from '../rules/compile';
import { mergeOp, type KeyOp } from '../rules/ops';
import { cascade } from './cascades';
import type { FallbackReason, ResolveContext, ResolveStep, RowEvent } from './context';
import { patternOps } from './fallback';
import type { IndexedTable, RowModel } from './model';
import { oldImage } from './old-image';
import type { IndexReadRequest, IndexWriteRequest, RelatedRowsPort, RowIndexPort } from './ports';
import {
  ReadBuilder,
  ReadResults,
  WriteBuilder,
  eventPk,
  nsOf,
  pick,
  refsOf,
  rowPk,
  sameColumns,
} from './requests';
import { viaFromMysql } from './via-mysql';
import { vias } from './vias';

// The entry's input types, defined with the state its parts share.
export type { ResolveContext, RowEvent } from './context';

export interface Resolution {
  readonly ops: KeyOp[];
  readonly writes: IndexWriteRequest[];
  /** What fell back to patterns, and why (logged, counted). */
  readonly fallbacks: string[];
  /** The reason of each fallback, in the same order (the metric's label). */
  readonly reasons: FallbackReason[];
  /** Related rows found (cascaded children, via rows). */
  readonly related: number;
}

export const NO_RESOLUTION: Resolution = {
  ops: [],
  writes: [],
  fallbacks: [],
  reasons: [],
  related: 0,
};

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
  // 1. One index read: entries of keys without a before image, reverse sets of parents and vias.
  const requests = indexReads(rows, ctx);
  const results = requests.length > 0 ? await index.read(requests) : [];
  const got = new ReadResults(requests, results);

  // 2. Via lookups in MySQL where the related table's index is not complete.
  const viaRows = await viaFromMysql(rows, ctx, got, related);

  // 3. Operations and index writes, event by event.
  const ops = new Map<string, KeyOp>();
  const fallbacks: string[] = [];
  const reasons: FallbackReason[] = [];
  const add = (list: readonly KeyOp[]) =>
    list.forEach((op) => {
      // a target planned as a pattern because a column could not be read (plan.ts)
      if (op.fallback !== undefined) {
        fallbacks.push(`${op.key}: ${op.fallback}`);
        reasons.push('column-unreadable');
      }
      mergeOp(ops, op);
    });
  const step: ResolveStep = {
    ctx,
    got,
    writes: new WriteBuilder(),
    viaRows,
    add,
    fallback: (rule, known, why, reason) => {
      fallbacks.push(`${rule.table}: ${why}`);
      reasons.push(reason);
      add(patternOps(rule, known));
    },
    related: 0,
  };
  for (const r of rows) {
    const rule = ctx.rules.get(r.table);
    if (!rule) continue;
    try {
      resolveRow(r, rule, step);
    } catch (err) {
      // A row the index cannot plan (say a column a rule needs missing from an old entry) must
      // not stop the partition: retryable failures retry, the rest fall back to patterns.
      if (err instanceof SyncError && err.retryable) throw err;
      step.fallback(rule, r.key ?? {}, `resolve failed: ${errorMessage(err)}`, 'resolve-failed');
    }
  }
  return {
    ops: [...ops.values()],
    writes: step.writes.requests(),
    fallbacks,
    reasons,
    related: step.related,
  };
}

/** What to read: entries of keys without a before image, reverse sets of parents and vias. */
function indexReads(rows: readonly RowEvent[], ctx: ResolveContext): IndexReadRequest[] {
  const { model } = ctx;
  const reads = new ReadBuilder();
  const ns = (t: string) => nsOf(ctx.topicPrefix, t);
  for (const r of rows) {
    const indexed = model.indexed.has(r.table);
    if (indexed) reads.ns(ns(r.table));
    // (r.key last: an envelope's record key is decoded when read)
    if (indexed && (r.event === null || (r.event.flattened && r.event.op === 'u')) && r.key) {
      const pk = rowPk(model.primaryKeys, r.table, r.event?.after, r.key);
      if (pk !== undefined) reads.entry(ns(r.table), pk);
    }
    const cascades = model.cascadesByParent.get(r.table);
    const viaTargets = model.vias.get(r.table);
    if (!cascades && !viaTargets) continue;
    const before = r.event?.before ?? r.key;
    for (const c of cascades ?? []) {
      if (c.handling !== 'row-index') continue;
      const value = before?.[c.edge.parentColumns[0] as string];
      if (value !== undefined && value !== null) {
        reads.ref(ns(c.edge.child), c.edge.childColumns[0] as string, String(value));
      }
    }
    for (const vt of viaTargets ?? []) {
      for (const image of [before, r.event?.after]) {
        const value = image?.[vt.via.on];
        if (value !== undefined && value !== null) {
          reads.ref(ns(vt.via.table), vt.via.column, String(value));
        }
      }
    }
  }
  return reads.requests();
}

/** One event: its old image, cascades, vias, then its own index entry. */
function resolveRow(r: RowEvent, rule: CompiledRule, step: ResolveStep): void {
  const { ctx } = step;
  const { before, deleted } = oldImage(r, rule, step);
  if (before && r.event?.op !== 'r' && r.event?.op !== 't') {
    const parent = { before, after: r.event?.after ?? null, deleted };
    for (const c of ctx.model.cascadesByParent.get(r.table) ?? []) {
      step.related += cascade(c, parent, step);
    }
  }
  if (r.event?.op !== 't' && (r.event?.op !== 'r' || ctx.snapshotInvalidates)) {
    step.related += vias(rule, r, before ?? null, step);
  }
  const idx = ctx.model.indexed.get(r.table);
  if (idx) indexOwnRow(r, idx, step);
}

/**
 * An update whose before and after images hold the same indexed columns leaves the entry as it
 * is, with no write: the entry already holds the before image's content (the row's changes are
 * indexed in order, a snapshot or create wrote it, an eviction or a flush makes the table
 * incomplete), so this is the storage's own keep-same rule decided without the round trip.
 * Not where a cascade writes entries (keepsSame), nor when the primary key moved.
 */
function keepsEntry(r: RowEvent, idx: IndexedTable, step: ResolveStep, pk: string): boolean {
  const e = r.event;
  if (!idx.keepsSame || !e || e.op !== 'u' || e.flattened === true || !e.before || !e.after) {
    return false;
  }
  // refColumns are among columns (model.ts): the reverse sets are the same too
  if (!sameColumns(e.before, e.after, idx.columns)) return false;
  return eventPk(step.ctx.model.primaryKeys, r, e.before) === pk;
}

/** The row's own index entry (and the table's completeness after a truncate or a snapshot). */
function indexOwnRow(r: RowEvent, idx: IndexedTable, step: ResolveStep): void {
  const e = r.event;
  if (!e) return;
  const tns = nsOf(step.ctx.topicPrefix, r.table);
  // After a truncate the table is empty and every row from here on arrives as a change, so the
  // index is complete again; entries of truncated rows may remain, and only cause extra
  // invalidations (their keys), never missed ones.
  if (e.op === 't') {
    step.writes.complete(tns, 'set');
    return;
  }
  const image = e.op === 'd' ? null : e.after;
  const row = e.after ?? e.before;
  const pk = eventPk(step.ctx.model.primaryKeys, r, row);
  step.writes.stream(tns, r.place.partition, r.place.offset, r.version);
  if (pk !== undefined && !keepsEntry(r, idx, step, pk)) {
    step.writes.row(tns, {
      pk,
      offset: r.place.offset,
      v: r.version,
      row: image ? pick(image, idx.columns) : null,
      refs: image ? refsOf(image, idx.refColumns) : [],
      keepSame: idx.keepsSame,
    });
  }
  // A partition has passed the snapshot with its `last` record or with a streamed change (its
  // snapshot rows came before); the table is complete once every partition has.
  const snap = e.source.snapshot;
  const { partition, topic } = r.place;
  if (e.op === 'r') {
    const first = snap === 'first' || snap === 'first_in_data_collection';
    const last = snap === 'last_in_data_collection' || snap === 'last';
    if (first || last) {
      const partitions = step.ctx.partitionsOf?.(topic);
      step.writes.snapshot(tns, {
        partition,
        first,
        last,
        passed: last,
        ...(partitions === undefined ? {} : { partitions }),
      });
    }
  } else step.writes.snapshot(tns, { partition, passed: true });
}
