/**
 * Verify: samples cached keys of each family and checks them against MySQL. Every family the
 * application caches has its truth in truth.ts (the value the application would build now, or
 * that the key must not exist; master data by the rule's loader). Keys truth.ts does not know
 * fall back to a target's `existsOnlyIf` query; other keys cannot be judged and are counted as
 * without loader.
 */
import type { Config } from '../config/config';
import type { Family } from '../core/families';
import type { RowLoader } from '../mysql/loader';
import type { RedisPort } from '../redis/port';
import { KeyMatcher } from '../rules/match';
import type { RuleSet } from '../rules/registry';
import { decodeValue, type ValueFormat } from '../keys/value-format';
import { CacheTruth, comparable } from './truth';

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
  /** Values neither JSON nor the pickle subset the application writes: not judged. */
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
  const truth = new CacheTruth(deps.loader, matcher);
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
      const verdict = await judgeKey({ deps, matcher, family, key, truth });
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
  /** Neither JSON nor the pickle subset the application writes. */
  | { readonly kind: 'unreadable' }
  /** A known key whose target has neither a loader nor an existsOnlyIf query. */
  | { readonly kind: 'missing-loader' }
  /** Looked stale, but the cached value changed while it was checked. */
  | { readonly kind: 'changed' };

/** What `judgeKey` is given: one key of one family, and where its truth is read. */
export interface JudgeKeyArgs {
  readonly deps: Pick<VerifyDeps, 'ports' | 'loader' | 'config'>;
  readonly matcher: KeyMatcher;
  readonly family: Family;
  readonly key: string;
  /** Default: a new `CacheTruth` over `deps.loader` and `matcher`. */
  readonly truth?: CacheTruth;
}

/**
 * The truth of one cached key (truth.ts: what the application would build from MySQL now, or
 * that the key must not exist; master data by the rule's loader), else a target's
 * `existsOnlyIf` query. Values are read as the family's configured format (JSON or pickle).
 * A key that looks stale is read again: rewritten meanwhile, it is not judged. Shared by
 * `verify` and the consistency monitor.
 */
export async function judgeKey({
  deps,
  matcher,
  family,
  key,
  truth = new CacheTruth(deps.loader, matcher),
}: JudgeKeyArgs): Promise<KeyVerdict> {
  const port = deps.ports[family];
  const matches = matcher.match(key).filter((m) => m.target.family === family);
  if (matches.length === 0) return { kind: 'unknown' };
  const withExistence = matches.find((m) => m.target.compiledExistsOnlyIf);
  const cached = await port.getBuffer(key);
  if (cached === null) return { kind: 'absent' };
  let verdict: KeyVerdict = { kind: 'missing-loader' };
  const t = await truth.of(family, key);
  if (t.kind === 'value') {
    const parsed = readValue(deps.config.redis.valueFormats[family] ?? 'json', cached);
    const want = canonical(comparable(family, t.value));
    if (parsed === undefined) verdict = { kind: 'unreadable' };
    else if (canonical(comparable(family, parsed)) === want) verdict = { kind: 'consistent' };
    else
      verdict = {
        kind: 'stale',
        why: `differs from what the application builds now: ${want.slice(0, 300)}`,
        cached: cached.toString('utf8'),
      };
  } else if (t.kind === 'absent') {
    verdict = { kind: 'stale', why: `must not exist: ${t.why}`, cached: cached.toString('utf8') };
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
            cached: cached.toString('utf8'),
          };
  }
  if (verdict.kind === 'stale') {
    const again = await port.getBuffer(key);
    if (!again || !again.equals(cached)) return { kind: 'changed' };
  }
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

/** The family's configured format first, then the other one (the application may write either). */
function readValue(format: ValueFormat, raw: Buffer): unknown {
  const first = decodeValue(format, raw);
  if (first !== undefined) return first;
  return decodeValue(format === 'json' ? 'pickle' : 'json', raw);
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
