/**
 * Verify: samples cached keys of each family and checks them against MySQL. A key with a loader
 * (refresh target) must hold what the loader reads now; a key with an `existsOnlyIf` query may
 * exist only while that query returns a row (e.g. no session for a disabled user). Other keys
 * cannot be judged and are counted as without loader.
 */
import type { Config } from '../config/config';
import type { Family } from '../config/families';
import type { RowLoader } from '../mysql/loader';
import type { RedisPort } from '../redis/port';
import { KeyMatcher } from '../rules/match';
import type { RuleSet } from '../rules/registry';

export interface VerifyOptions {
  /** Keys sampled per family. */
  readonly sample: number;
  readonly families: readonly Family[];
}

export interface StaleKey {
  readonly family: Family;
  readonly db: number;
  readonly key: string;
  readonly why: string;
}

export interface VerifyReport {
  checked: number;
  consistent: number;
  stale: number;
  /** Keys of a known family and template, but nothing to check them against. */
  missingLoader: number;
  /** Values that are not JSON (e.g. pickled by an older reader): not judged. */
  unreadable: number;
  /** Keys no rule produces. */
  unknown: number;
  /** Changed while being checked: not judged. */
  changed: number;
  readonly staleKeys: StaleKey[];
}

export interface VerifyDeps {
  readonly config: Config;
  readonly rules: RuleSet;
  readonly ports: Readonly<Record<Family, RedisPort>>;
  readonly loader: RowLoader;
}

export async function verify(deps: VerifyDeps, options: VerifyOptions): Promise<VerifyReport> {
  const matcher = new KeyMatcher(deps.rules);
  const report: VerifyReport = {
    checked: 0,
    consistent: 0,
    stale: 0,
    missingLoader: 0,
    unreadable: 0,
    unknown: 0,
    changed: 0,
    staleKeys: [],
  };
  for (const family of options.families) {
    const port = deps.ports[family];
    for (const key of await sample(port, `${family}:*`, options.sample)) {
      report.checked += 1;
      const verdict = await judgeKey(deps, matcher, family, key);
      switch (verdict.kind) {
        case 'unknown':
          report.unknown += 1;
          break;
        case 'absent': // expired or invalidated since the scan
        case 'changed': // rewritten while checked: not judged
          report.changed += 1;
          break;
        case 'stale':
          report.stale += 1;
          report.staleKeys.push({
            family,
            db: deps.config.redis.db[family],
            key,
            why: verdict.why,
          });
          break;
        case 'consistent':
          report.consistent += 1;
          break;
        case 'unreadable':
          report.unreadable += 1;
          break;
        case 'missing-loader':
          report.missingLoader += 1;
      }
    }
  }
  return report;
}

/** How one cached key compares with its truth (see `judgeKey`). */
export type KeyVerdict =
  /** Not in the cache: always consistent with the database. */
  | { readonly kind: 'absent' }
  /** No rule of this family produces the key. */
  | { readonly kind: 'unknown' }
  | { readonly kind: 'consistent' }
  /** Cached value differs from the truth, or exists though it must not; `cached` as read. */
  | { readonly kind: 'stale'; readonly why: string; readonly cached: string }
  /** Not JSON (e.g. pickled by an older reader). */
  | { readonly kind: 'unreadable' }
  /** A known key whose target has neither a loader nor an existsOnlyIf query. */
  | { readonly kind: 'missing-loader' }
  /** Looked stale, but the cached value changed while it was checked. */
  | { readonly kind: 'changed' };

/**
 * The truth of one cached key: a target with a loader must hold what the loader reads now
 * (JSON compared with sorted keys); a target with `existsOnlyIf` may exist only while the query
 * returns a row. Shared by `verify` and the consistency monitor.
 */
export async function judgeKey(
  deps: Pick<VerifyDeps, 'ports' | 'loader'>,
  matcher: KeyMatcher,
  family: Family,
  key: string,
): Promise<KeyVerdict> {
  const port = deps.ports[family];
  const matches = matcher.match(key).filter((m) => m.target.family === family);
  if (matches.length === 0) return { kind: 'unknown' };
  const withLoader = matches.find((m) => m.target.compiledLoader);
  const withExistence = matches.find((m) => m.target.compiledExistsOnlyIf);
  const cached = await port.get(key);
  if (cached === null) return { kind: 'absent' };
  let verdict: KeyVerdict = { kind: 'missing-loader' };
  if (withLoader?.target.compiledLoader) {
    const loader = withLoader.target.compiledLoader;
    const rows = await deps.loader.query(
      loader.text,
      loader.params.map((p) => withLoader.fields[p]),
    );
    const parsed = parse(cached);
    if (parsed === undefined) verdict = { kind: 'unreadable' };
    else if (canonical(parsed) === canonical(rows)) verdict = { kind: 'consistent' };
    else
      verdict = {
        kind: 'stale',
        why: `differs from ${withLoader.rule.table} (${rows.length} row(s) now)`,
        cached,
      };
  } else if (withExistence?.target.compiledExistsOnlyIf) {
    const q = withExistence.target.compiledExistsOnlyIf;
    const rows = await deps.loader.query(
      q.text,
      q.params.map((p) => withExistence.fields[p]),
    );
    verdict =
      rows.length > 0
        ? { kind: 'consistent' }
        : {
            kind: 'stale',
            why: `must not exist: ${withExistence.rule.table} has no qualifying row (${withExistence.rule.file})`,
            cached,
          };
  }
  if (verdict.kind === 'stale' && (await port.get(key)) !== cached) return { kind: 'changed' };
  return verdict;
}

async function sample(port: RedisPort, pattern: string, max: number): Promise<string[]> {
  const keys = new Set<string>();
  for (const node of port.scanNodes()) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, pattern, 500);
      cursor = next;
      for (const k of found) if (keys.size < max) keys.add(k);
    } while (cursor !== '0' && keys.size < max);
  }
  return [...keys];
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** JSON with object keys sorted, so field order does not count as a difference. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : typeof v === 'bigint'
        ? v.toString()
        : v,
  );
}
