/**
 * Verify: samples cached keys of each family and checks them against MySQL. Every family the
 * application caches has its truth in truth.ts (the value the application would build now, or
 * that the key must not exist; master data by the rule's loader). Keys truth.ts does not know
 * fall back to a target's `existsOnlyIf` query; other keys cannot be judged and are counted as
 * without loader.
 */
import type { Config } from '../config/config';
import type { Family } from '../config/families';
import type { RowLoader } from '../mysql/loader';
import type { RedisPort } from '../redis/port';
import { KeyMatcher } from '../rules/match';
import type { RuleSet } from '../rules/registry';
import { decodeValue, type ValueFormat } from '../redis/value-format';
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
  const cacheTruth = new CacheTruth(deps.loader, matcher);
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
      const matches = matcher.match(key).filter((m) => m.target.family === family);
      if (matches.length === 0) {
        report.unknown += 1;
        continue;
      }
      const withExistence = matches.find((m) => m.target.compiledExistsOnlyIf);
      const cached = await port.getBuffer(key);
      if (cached === null) {
        report.changed += 1; // expired or invalidated since the scan
        continue;
      }
      let verdict: 'consistent' | 'stale' | 'unreadable' | 'missing' = 'missing';
      let why = '';
      const truth = await cacheTruth.of(family, key);
      if (truth.kind === 'value') {
        const parsed = readValue(deps.config.redis.valueFormats[family] ?? 'json', cached);
        if (parsed === undefined) verdict = 'unreadable';
        else if (
          canonical(comparable(family, parsed)) === canonical(comparable(family, truth.value))
        ) {
          verdict = 'consistent';
        } else {
          verdict = 'stale';
          why = `differs from what the application builds now: ${canonical(comparable(family, truth.value)).slice(0, 300)}`;
        }
      } else if (truth.kind === 'absent') {
        verdict = 'stale';
        why = `must not exist: ${truth.why}`;
      } else if (withExistence?.target.compiledExistsOnlyIf) {
        const q = withExistence.target.compiledExistsOnlyIf;
        const rows = await deps.loader.query(
          q.text,
          q.params.map((p) => withExistence.fields[p]),
        );
        verdict = rows.length > 0 ? 'consistent' : 'stale';
        why = `must not exist: ${withExistence.rule.table} has no qualifying row (${withExistence.rule.file})`;
      }
      const again = verdict === 'stale' ? await port.getBuffer(key) : cached;
      if (!again || !again.equals(cached)) {
        report.changed += 1; // rewritten while checked: not judged
        continue;
      }
      if (verdict === 'stale') {
        report.stale += 1;
        report.staleKeys.push({ family, db: deps.config.redis.db[family], key, why });
      } else if (verdict === 'consistent') report.consistent += 1;
      else if (verdict === 'unreadable') report.unreadable += 1;
      else report.missingLoader += 1;
    }
  }
  return report;
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
