/**
 * The related rows of `via` targets asked of MySQL when the related table's row index is not
 * complete: one query per related table and column per batch, before the batch is planned.
 * A failed query is retryable (the batch is not committed).
 */
import type { Row } from '../envelope/types';
import { SyncError, errorMessage } from '../core/errors';
import { viaRowsId, type ResolveContext, type RowEvent, type ViaRows } from './context';
import type { RelatedRowsPort } from './ports';
import { nsOf, type ReadResults } from './requests';

export async function viaFromMysql(
  rows: readonly RowEvent[],
  ctx: ResolveContext,
  got: ReadResults,
  related: RelatedRowsPort | undefined,
): Promise<ViaRows> {
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
    for (const v of w.values) out.set(viaRowsId(w.table, w.column, v), []);
    for (const row of found) {
      out.get(viaRowsId(w.table, w.column, String(row[w.column])))?.push(row);
    }
  }
  return out;
}
