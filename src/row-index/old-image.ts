/**
 * A row's image before the change when the event does not carry it, from the row's index
 * entry: a tombstone not preceded by its delete in the batch (flattened topics in drop mode) is
 * planned as the delete of the indexed row; a flattened update (no before image) gets the old
 * key columns, so a moved row dirties the old keys too. Patterns when the entry is missing and
 * the table's index is not known complete.
 */
import type { Row } from '../envelope/types';
import type { CompiledRule } from '../rules/compile';
import { planEvent } from '../rules/plan';
import { deleteOf, type ResolveStep, type RowEvent } from './context';
import { nsOf, rowPk } from './requests';

export interface OldImage {
  /** undefined: none known (an insert, say); null: the row was already deleted or never was. */
  readonly before: Row | null | undefined;
  readonly deleted: boolean;
}

/** The event's before image, else the index's (planning what the index's image implies). */
export function oldImage(r: RowEvent, rule: CompiledRule, step: ResolveStep): OldImage {
  const { ctx, got, writes, add, fallback } = step;
  const idx = ctx.model.indexed.get(r.table);
  // An envelope's change carries its before image (or needs none): nothing to look up.
  if (r.event !== null && !(r.event.flattened && r.event.op === 'u' && idx)) {
    return { before: r.event.before ?? undefined, deleted: r.event.op === 'd' };
  }
  const tns = nsOf(ctx.topicPrefix, r.table);
  const keyRow = r.key ?? {};
  const pk = r.key ? rowPk(ctx.model.primaryKeys, r.table, r.event?.after, r.key) : undefined;
  const entry = idx && pk !== undefined ? got.entry(tns, pk) : undefined;
  const known: Row | undefined = entry?.row ? { ...entry.row, ...keyRow } : undefined;

  if (r.event === null) {
    // Tombstone: a delete by key.
    if (!idx) {
      try {
        add(planEvent(deleteOf(keyRow), rule, ctx));
      } catch {
        fallback(
          rule,
          keyRow,
          `tombstone of ${describeKey(keyRow)}: key columns unknown`,
          'key-unknown',
        );
      }
      return { before: keyRow, deleted: true };
    }
    if (pk === undefined) {
      fallback(
        rule,
        keyRow,
        `tombstone of ${describeKey(keyRow)}: the primary key is not in the record key`,
        'key-not-primary',
      );
      return { before: keyRow, deleted: true };
    }
    if (known) {
      add(planEvent(deleteOf(known), rule, ctx));
      writes.row(tns, { pk, v: `${entry?.v ?? ''}~`, row: null, refs: [] });
      return { before: known, deleted: true };
    }
    if (!entry && !got.complete(tns)) {
      fallback(
        rule,
        keyRow,
        `tombstone of ${describeKey(keyRow)} not in the row index`,
        'entry-missing',
      );
      return { before: keyRow, deleted: true };
    }
    return { before: null, deleted: true }; // already deleted (the envelope's delete), or never existed
  }
  // A flattened update of an indexed table (the only event left here): the index's image.
  if (known) {
    add(planEvent({ ...r.event, before: known }, rule, ctx));
    return { before: known, deleted: false };
  }
  if (!entry && !got.complete(tns)) {
    fallback(
      rule,
      keyRow,
      `flattened update of ${describeKey(keyRow)} not in the row index`,
      'entry-missing',
    );
  }
  return { before: r.event.before ?? undefined, deleted: false };
}

function describeKey(key: Row): string {
  return JSON.stringify(key, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}
