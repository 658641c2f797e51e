/**
 * Foreign-key cascades the engine runs below the binlog (CASCADE / SET NULL / SET DEFAULT): the
 * children of a deleted or re-keyed parent come from the row index's reverse sets and are
 * planned as if their own delete or update had arrived, their index entries written just after
 * the entries they were read from. Patterns of the child's families when the index cannot say.
 */
import type { ChangeEvent, Row } from '../envelope/types';
import { isSilent, type FkAction } from './fk-graph';
import { planEvent } from '../rules/plan';
import { deleteOf, type ResolveStep } from './context';
import type { Cascade } from './model';
import { nsOf, pick, refsOf } from './requests';

/** The parent's change a cascade follows. */
export interface ParentChange {
  /** The parent's image before the change (the event's, else the row index's). */
  readonly before: Row;
  readonly after: Row | null;
  readonly deleted: boolean;
}

/** Children of a deleted / re-keyed parent, planned as their own delete or update. */
export function cascade(c: Cascade, parent: ParentChange, step: ResolveStep): number {
  const { before, after, deleted } = parent;
  const { ctx, got, writes, add, fallback } = step;
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
    fallback(childRule, known, `${why}: children not known from the row index`, 'children-unknown');
    return 0;
  }
  if (action === 'SET DEFAULT') {
    fallback(childRule, known, `${why}: default value unknown`, 'default-unknown');
    return 0;
  }
  const children = got.ref(cns, childCol, String(value));
  const idx = ctx.model.indexed.get(edge.child);
  for (const child of children) {
    const row = child.entry?.row;
    if (!row) continue;
    let event: ChangeEvent;
    if (deleted && action === 'CASCADE') event = deleteOf(row);
    else {
      const newValue = action === 'SET NULL' ? null : (after?.[parentCol] ?? null);
      event = { op: 'u', before: row, after: { ...row, [childCol]: newValue }, source: {} };
    }
    add(planEvent(event, childRule, ctx));
    const image = event.after ? pick(event.after, idx?.columns ?? []) : null;
    writes.row(cns, {
      pk: child.pk,
      // Just after the entry the cascade was read from, not the parent's version: the child's
      // topic may lag, and an own change of the child older than the parent's but newer than
      // this entry (it left the parent before the delete) must still overwrite what is derived
      // from the stale entry. The other way round (the entry was right) an older own change
      // only brings back a row the index then holds too long: extra invalidations, never missed.
      v: `${child.entry?.v ?? ''}~`,
      row: image,
      refs: image ? refsOf(image, idx?.refColumns ?? []) : [],
    });
  }
  return children.length;
}

function same(a: unknown, b: unknown): boolean {
  return a === b || String(a) === String(b);
}
