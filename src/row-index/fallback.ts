/**
 * The fallback when the row index cannot answer (entry missing while the table's index is not
 * known complete, multi-column key, related rows unknown, …): never silently nothing, every key
 * family of the table concerned is dropped as a pattern instead.
 */
import type { Row } from '../envelope/types';
import type { CompiledRule } from '../rules/compile';
import type { KeyOp } from '../rules/ops';
import { renderTemplate } from '../rules/template';

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
