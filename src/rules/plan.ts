/**
 * Change event + table rule → the Redis operations it calls for. Pure: no I/O, so it runs the
 * same in the service, in tests and in offline tools.
 */
import type { ChangeEvent } from '../envelope/types';
import type { CompiledRule } from './compile';
import { renderTemplate } from './template';
import type { KeyOp } from './types';

export interface PlanOptions {
  /** Whether snapshot reads (op r) invalidate. */
  readonly snapshotInvalidates: boolean;
}

export function planEvent(event: ChangeEvent, rule: CompiledRule, options: PlanOptions): KeyOp[] {
  if (event.op === 'r' && !options.snapshotInvalidates) return [];
  const ops = new Map<string, KeyOp>();
  const add = (op: KeyOp) => ops.set(`${op.db}\u0000${op.action}\u0000${op.key}`, op);

  for (const target of rule.targets) {
    if (event.op === 't') {
      // A truncate has no row images: every key of the family goes.
      const wildcard = target.template.fields.length > 0;
      const key = renderTemplate(target.template, null, { escapeGlob: true, wildcardFields: true });
      if (key !== null)
        add({ db: target.db, action: wildcard ? 'pattern-delete' : target.action, key });
      continue;
    }
    const escapeGlob = target.action === 'pattern-delete';
    for (const image of [event.before, event.after]) {
      if (!image) continue;
      const key = renderTemplate(target.template, image, { escapeGlob });
      if (key !== null) add({ db: target.db, action: target.action, key });
    }
  }
  return [...ops.values()];
}
