/**
 * Startup check of the MySQL user behind the refresh loaders: each loader of a family listed in
 * MCS_REFRESH_FAMILIES runs once as `SELECT * FROM (<loader>) LIMIT 0` (parameters NULL), which
 * reads no row but needs every privilege the loader needs. A refused password, TLS problem or
 * missing SELECT stops the service at start naming the loader and the grant; a server that is
 * merely unreachable is only logged (a refresh that cannot query deletes the key instead).
 */
import type { Config } from '../config/config';
import { SyncError, errorMessage } from '../core/errors';
import type { RuleSet } from '../rules/registry';
import { diagnoseMysql } from '../security/diagnose';
import type { Logger } from '../telemetry/logger';
import type { RowLoader } from '../mysql/loader';

export interface LoaderQuery {
  readonly file: string;
  readonly key: string;
  readonly text: string;
  readonly params: number;
}

/** The loaders the service will run: refresh targets of the refresh-enabled families. */
export function activeLoaders(rules: RuleSet, config: Config['rules']): LoaderQuery[] {
  const out: LoaderQuery[] = [];
  for (const table of rules.tables) {
    const rule = rules.get(table);
    for (const target of rule?.targets ?? []) {
      if (target.action !== 'refresh' || !target.compiledLoader) continue;
      if (!config.refreshFamilies.includes(target.family)) continue;
      const { text, params } = target.compiledLoader;
      out.push({ file: rule?.file ?? table, key: target.key, text, params: params.length });
    }
  }
  return out;
}

/** A MySQL location without credentials, for messages. */
export function mysqlWhere(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 3306}${u.pathname}`;
  } catch {
    return '<invalid url>';
  }
}

export async function checkLoaderAccess(
  loader: RowLoader,
  rules: RuleSet,
  config: Config,
  logger: Logger,
): Promise<void> {
  const where = mysqlWhere(config.mysql.url);
  const user = (() => {
    try {
      return decodeURIComponent(new URL(config.mysql.url).username);
    } catch {
      return '';
    }
  })();
  for (const q of activeLoaders(rules, config.rules)) {
    try {
      await loader.query(
        `SELECT * FROM (${q.text}) AS mcs_access_check LIMIT 0`,
        new Array<null>(q.params).fill(null),
      );
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'ER_TABLEACCESS_DENIED_ERROR' || code === 'ER_COLUMNACCESS_DENIED_ERROR') {
        throw new SyncError(
          'ACCESS_DENIED',
          `mysql (${where}): the loader of ${q.key} (${q.file}) cannot run as "${user}": ` +
            `${errorMessage(err)}. Fix: GRANT SELECT ON <database>.<table> TO '${user}' for the ` +
            'tables it reads (docs/security.md "Production security"), or leave its family out of ' +
            'MCS_REFRESH_FAMILIES',
          { details: { part: 'mysql', file: q.file } },
        );
      }
      const diagnosed = diagnoseMysql(err, config.mysql, where);
      if (diagnosed) throw diagnosed;
      logger.warn(
        { mysql: where, error: errorMessage(err) },
        'mysql loader check could not run (refreshes delete the key while MySQL fails)',
      );
      return;
    }
  }
}
