/**
 * Start phases 3 and 4: the row index (FK graph, row index and related-row lookups for flattened
 * records, cascades and via targets) and the MySQL loader of the refresh families.
 */
import { createRowLoader, type RowLoader } from '../mysql/loader';
import { checkLoaderAccess } from '../preflight/mysql-access';
import { openRowIndex, type OpenRowIndex } from '../row-index/open';
import type { StartContext } from './start-context';

/** Undefined when no table needs the row index. */
export async function openRowIndexPhase(ctx: StartContext): Promise<OpenRowIndex | undefined> {
  const { config, rules, logger, closers } = ctx;
  const rowIndex = await openRowIndex(config, rules, logger);
  if (rowIndex) closers.defer('row index', () => rowIndex.close());
  return rowIndex;
}

/** The loader when a family is refreshed (not only deleted), after its access check. */
export async function connectMysql(ctx: StartContext): Promise<RowLoader | undefined> {
  const { config, rules, logger, closers } = ctx;
  if (config.rules.refreshFamilies.length === 0) return undefined;
  const loader = createRowLoader(config.mysql.url, config.mysql.tls);
  closers.defer('mysql loader', () => loader.close());
  await checkLoaderAccess(loader, rules, config, logger.child({ component: 'mysql' }));
  return loader;
}
