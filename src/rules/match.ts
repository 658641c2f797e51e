/**
 * Key → the rule targets whose template produces it, with the column values read back from the
 * key. The inverse of rendering, used by `verify` to recompute a cached key's true value.
 */
import type { CompiledRule, CompiledTarget } from './compile';
import type { RuleSet } from './registry';

export interface KeyMatch {
  readonly rule: CompiledRule;
  readonly target: CompiledTarget;
  /** Column values read from the key (plain placeholders only; formatted ones are omitted). */
  readonly fields: Readonly<Record<string, string>>;
}

interface Matcher {
  readonly rule: CompiledRule;
  readonly target: CompiledTarget;
  readonly re: RegExp;
  readonly groups: readonly (string | null)[];
}

export class KeyMatcher {
  private readonly matchers: Matcher[] = [];

  constructor(rules: RuleSet) {
    for (const table of rules.tables) {
      const rule = rules.get(table);
      if (!rule) continue;
      for (const target of rule.targets) this.matchers.push(compileMatcher(rule, target));
    }
  }

  /** Every target producing the key, most specific (fewest wildcards) first. */
  match(key: string): KeyMatch[] {
    const out: KeyMatch[] = [];
    for (const m of this.matchers) {
      const found = m.re.exec(key);
      if (!found) continue;
      const fields: Record<string, string> = {};
      m.groups.forEach((name, i) => {
        if (name !== null) fields[name] = found[i + 1] ?? '';
      });
      out.push({ rule: m.rule, target: m.target, fields });
    }
    return out;
  }
}

function compileMatcher(rule: CompiledRule, target: CompiledTarget): Matcher {
  let re = '';
  const groups: (string | null)[] = [];
  for (const seg of target.template.segments) {
    if ('text' in seg) {
      const escaped = seg.text.replace(/[.*+?^${}()|[\]\\/-]/g, (c) => `\\${c}`);
      re += target.action === 'pattern-delete' ? escaped.replace(/\\\*/g, '.*') : escaped;
    } else if (seg.format === 'yyyymmdd') {
      re += '(\\d{8})';
      groups.push(null);
    } else if (seg.format === 'yyyymm') {
      re += '(\\d{6})';
      groups.push(null);
    } else {
      re += '([^:]+)';
      groups.push(seg.field);
    }
  }
  return { rule, target, re: new RegExp(`^${re}$`), groups };
}
