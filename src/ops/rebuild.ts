/**
 * Rebuild: warms the families that have loaders (the `refresh` targets) straight from MySQL.
 * A key with placeholders is rebuilt for every distinct value of its columns in the rule's
 * table. Writes go through the same lock and versioned script as change-driven refreshes, with
 * the lowest version, so a warm-up never overwrites a value a change wrote meanwhile (it skips).
 */
import type { Config } from '../config/config';
import type { Family } from '../core/families';
import { errorMessage } from '../core/errors';
import type { RowLoader } from '../mysql/loader';
import type { RedisPort } from '../redis/port';
import { refreshKey } from '../keys/refresh';
import type { RefreshOp } from '../rules/ops';
import type { RuleSet } from '../rules/registry';
import { renderTemplate } from '../rules/template';
import type { Logger } from '../telemetry/logger';

/** Lower than any binlog position version (`b:<file>:<pos>`). */
const WARM_UP_VERSION = 'b:';

export interface FamilyResult {
  written: number;
  skipped: number;
  failed: number;
}

export interface RebuildReport {
  readonly families: Partial<Record<Family, FamilyResult>>;
  /** Requested families that have no loader (delete-only): nothing to warm. */
  readonly withoutLoader: readonly Family[];
}

export interface RebuildDeps {
  readonly config: Config;
  readonly rules: RuleSet;
  readonly ports: Readonly<Record<Family, RedisPort>>;
  readonly loader: RowLoader;
  readonly logger: Logger;
}

export async function rebuild(
  deps: RebuildDeps,
  families: readonly Family[],
): Promise<RebuildReport> {
  const { rules, loader, config } = deps;
  const report: Partial<Record<Family, FamilyResult>> = {};
  for (const table of rules.tables) {
    const rule = rules.get(table);
    for (const target of rule?.targets ?? []) {
      const compiled = target.compiledLoader;
      if (target.action !== 'refresh' || !compiled || !families.includes(target.family)) continue;
      const result = (report[target.family] ??= { written: 0, skipped: 0, failed: 0 });
      const fields = target.template.fields;
      const rows =
        fields.length === 0
          ? [{}]
          : await loader.query(
              `SELECT DISTINCT ${fields.map((f) => `\`${f}\``).join(', ')} FROM \`${table}\``,
              [],
            );
      const ctx = {
        port: deps.ports[target.family],
        loader,
        ttl: config.redis.ttl,
        logger: deps.logger,
        format: config.redis.valueFormats[target.family] ?? 'json',
      };
      for (const row of rows) {
        const key = renderTemplate(target.template, row, { escapeGlob: false });
        if (key === null) continue;
        const op: RefreshOp = {
          family: target.family,
          action: 'refresh',
          key,
          sql: compiled.text,
          params: compiled.params.map((p) => row[p]),
          version: WARM_UP_VERSION,
        };
        try {
          const { outcome } = await refreshKey(ctx, op, 'skip');
          if (outcome === 'written') result.written += 1;
          else result.skipped += 1;
        } catch (err) {
          result.failed += 1;
          deps.logger.warn({ key, error: errorMessage(err) }, 'rebuild of a key failed');
        }
      }
    }
  }
  return { families: report, withoutLoader: families.filter((f) => !report[f]) };
}
