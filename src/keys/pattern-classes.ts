/**
 * Pattern classes (pure): what the pattern index keeps and how a pattern delete is answered from
 * it. Each `pattern-delete` template of the rules is one class: the template with every
 * placeholder made `*` (`stats:*:brand:{brand_id}` → `stats:*:brand:*`) is the set of keys the
 * index holds for it. Inside a class, keys are bucketed by the value their placeholder holds
 * (brand id → keys), so the delete of `stats:*:brand:2` reads one bucket, not the class.
 *
 * Exactness: a key goes into a bucket only when its placeholder value is unique (the greedy and
 * the lazy reading of the template agree, which for one placeholder proves there is no other
 * reading); any other key of the class (ambiguous, or a template with several placeholders) is
 * kept aside and tested against every pattern of its class. Every answer is filtered with the
 * pattern's own glob, so the index never returns a key the pattern does not match.
 */
import type { Family } from '../core/families';
import { globToRegExp, literalPrefix } from '../redis/keyspace';

export interface ClassSource {
  readonly family: Family;
  /** The template text of a pattern-delete target (`{field}` placeholders, `*` globs). */
  readonly template: string;
}

export interface PatternClass {
  readonly id: number;
  readonly family: Family;
  readonly template: string;
  /** Placeholders as `*`: every key the class holds matches it. */
  readonly glob: string;
  /** Number of placeholders: a class without any gains nothing from buckets. */
  readonly placeholders: number;
  readonly test: RegExp;
  /** Literal text before the first wildcard (a notification channel / SCAN prefix). */
  readonly prefix: string;
  /** One-placeholder classes: readings of a key that capture the placeholder's value. */
  readonly greedy?: RegExp;
  readonly lazy?: RegExp;
  /** Recognises a pattern that is this template with a literal value filled in. */
  readonly instance: RegExp;
}

/** Where one key lives inside a class: its bucket value, or undefined (kept aside). */
export interface Placement {
  readonly cls: PatternClass;
  readonly bucket: string | undefined;
}

/** How the index answers one pattern. */
export interface Lookup {
  readonly cls: PatternClass;
  /** Read only this bucket (and the keys kept aside); undefined: the whole class. */
  readonly bucket: string | undefined;
  readonly test: RegExp;
}

const PLACEHOLDER = /\{[^{}]*\}/g;

export function compileClasses(sources: readonly ClassSource[]): PatternClass[] {
  const seen = new Map<string, PatternClass>();
  for (const { family, template } of sources) {
    const id = `${family}\u0000${template}`;
    if (seen.has(id)) continue;
    const parts = template.split(PLACEHOLDER);
    const glob = parts.join('*');
    const one = parts.length === 2;
    const body = (lazy: boolean) =>
      parts.map((p) => globBody(p, lazy)).join(lazy ? '([\\s\\S]*?)' : '([\\s\\S]*)');
    const instanceBody = parts
      .map((p) => escapeRegExp(p))
      .join('((?:\\\\[\\s\\S]|[^*?[\\]\\\\])*)');
    seen.set(id, {
      id: seen.size,
      family,
      template,
      glob,
      placeholders: parts.length - 1,
      test: globToRegExp(glob),
      prefix: literalPrefix(glob),
      ...(one
        ? { greedy: new RegExp(`^${body(false)}$`), lazy: new RegExp(`^${body(true)}$`) }
        : {}),
      instance: new RegExp(`^${instanceBody}$`),
    });
  }
  return [...seen.values()];
}

/** The classes a key belongs to, with its bucket in each. */
export function placeKey(classes: readonly PatternClass[], key: string): Placement[] {
  const out: Placement[] = [];
  for (const cls of classes) {
    if (!cls.test.test(key)) continue;
    let bucket: string | undefined;
    if (cls.greedy && cls.lazy) {
      const g = cls.greedy.exec(key)?.[1];
      const l = cls.lazy.exec(key)?.[1];
      if (g !== undefined && g === l) bucket = g;
    }
    out.push({ cls, bucket });
  }
  return out;
}

/**
 * How to answer a pattern from the index, or undefined when no class covers it (then the
 * pattern is walked). A pattern covered by a class is that class's template with a value (or a
 * glob, e.g. `*` from a truncate) in place of the placeholder, so every key it matches is in the
 * class.
 */
export function lookupFor(
  classes: readonly PatternClass[],
  family: Family,
  pattern: string,
): Lookup | undefined {
  for (const cls of classes) {
    if (cls.family !== family) continue;
    const m = cls.instance.exec(pattern);
    if (m) {
      const bucket = cls.greedy && m[1] !== undefined ? unescapeGlob(m[1]) : undefined;
      return { cls, bucket, test: globToRegExp(pattern) };
    }
  }
  for (const cls of classes) {
    if (cls.family === family && pattern === cls.glob) {
      return { cls, bucket: undefined, test: globToRegExp(pattern) };
    }
  }
  return undefined;
}

/** The regex body (unanchored) of glob text; `*` greedy or lazy. */
function globBody(glob: string, lazy: boolean): string {
  const whole = globToRegExp(glob).source.slice(1, -1);
  return lazy ? whole.replace(/\[\\s\\S\]\*/g, '[\\s\\S]*?') : whole;
}

function unescapeGlob(text: string): string {
  return text.replace(/\\([\s\S])/g, '$1');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, (x) => `\\${x}`);
}
