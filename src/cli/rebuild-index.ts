/** `mis-cache-sync rebuild-index [--table t]`: the row index rebuilt from MySQL (src/ops/). */
import { progressSink } from '../ops/progress';
import { rebuildIndex } from '../ops/rebuild-index';
import type { OpContext } from './context';

export interface RebuildIndexArgs extends OpContext {
  readonly opts: { readonly table?: string[] };
}

export async function rebuildIndexCommand({
  opts,
  config,
  rules,
  logger,
  out,
}: RebuildIndexArgs): Promise<number> {
  const report = await rebuildIndex(
    { config, rules, logger, progress: progressSink() },
    opts.table ?? [],
  );
  if (report.length === 0) out('no table is kept in the row index: nothing to rebuild\n');
  for (const t of report) {
    out(
      `${t.table}: ${t.rows} row(s) indexed; ${t.complete ? 'complete' : 'still incomplete (the index server evicted keys or restarted meanwhile: see `check`)'}\n`,
    );
  }
  return report.every((t) => t.complete) ? 0 : 1;
}
