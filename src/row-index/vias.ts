/**
 * `via` targets (menus → the users holding the menu): the keys of a change are filled from the
 * related rows of each image's `on` value, found in the row index when the related table's
 * index is complete, else among the rows MySQL gave (via-mysql.ts), else a pattern.
 */
import type { ChangeEvent, Row } from '../envelope/types';
import type { CompiledRule, CompiledTarget } from '../rules/compile';
import { applies } from '../rules/plan';
import { renderTemplate } from '../rules/template';
import { deleteOf, viaRowsId, type ResolveStep, type RowEvent } from './context';
import { nsOf } from './requests';

/** `via` targets: keys filled from the related rows of each image's `on` value. */
export function vias(
  rule: CompiledRule,
  r: RowEvent,
  before: Row | null,
  step: ResolveStep,
): number {
  const { ctx, got, viaRows, add, fallback } = step;
  let count = 0;
  for (const vt of ctx.model.vias.get(rule.table) ?? []) {
    const target = rule.targets[vt.target] as CompiledTarget;
    const event: ChangeEvent = r.event
      ? { ...r.event, before: before ?? r.event.before }
      : deleteOf(before ?? {});
    if (!applies(target, event)) continue;
    const values = new Set<string>();
    for (const image of [event.before, event.after]) {
      const v = image?.[vt.via.on];
      if (v !== undefined && v !== null) values.add(String(v));
    }
    const rns = nsOf(ctx.topicPrefix, vt.via.table);
    for (const value of values) {
      let rows: readonly Row[] | undefined;
      if (got.complete(rns)) {
        rows = got
          .ref(rns, vt.via.column, value)
          .flatMap((c) => (c.entry?.row ? [c.entry.row] : []));
      } else rows = viaRows.get(viaRowsId(vt.via.table, vt.via.column, value));
      if (!rows) {
        fallback(
          { ...rule, targets: [{ ...target, via: undefined }] } as CompiledRule,
          {},
          `${vt.via.table} rows of ${vt.via.column} ${value} unknown (row index incomplete, no MySQL)`,
          'related-unknown',
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
