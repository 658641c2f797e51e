/**
 * `rebuild-index`: the row index of a table rebuilt from MySQL, for tables a snapshot never
 * completed (`snapshot.mode=no_data`, a snapshot aged out of Kafka, evictions, a Redis restart):
 * without it their changes fall back to family-wide patterns on every batch.
 *
 * Every row is written with the lowest version: it fills missing entries and never overwrites one
 * the change stream wrote (that one converges through the stream, whose later changes are in
 * Kafka), so no binlog privilege is needed and a rebuild during live traffic is safe. The
 * table counts complete at the end only if its Redis evicted nothing and did not restart since
 * the rebuild began (storage.ts: the eviction stamp). Rows deleted in MySQL whose entries stay
 * only cause extra invalidations, never missed ones.
 */
import connect, { sql, type ConnectionPool } from '@databases/mysql';
import type { Config } from '../config/config';
import { SyncError } from '../core/errors';
import type { Row } from '../envelope/types';
import { withTls } from '../mysql/loader';
import type { RuleSet } from '../rules/registry';
import { openRowIndex } from '../row-index/open';
import { nsOf, pick, refsOf, rowPk } from '../row-index/requests';
import type { Logger } from '../telemetry/logger';
import type { ProgressSink } from './progress';

const CHUNK = 500;

/** Below every source version (`g:`, `p:`, `t:`): a write that never wins over the stream's. */
const LOWEST_VERSION = 'b:';

export interface TableRebuild {
  readonly table: string;
  readonly rows: number;
  readonly complete: boolean;
}

export interface RebuildIndexDeps {
  readonly config: Config;
  readonly rules: RuleSet;
  readonly logger: Logger;
  readonly progress?: ProgressSink;
}

export async function rebuildIndex(
  deps: RebuildIndexDeps,
  only?: readonly string[],
): Promise<TableRebuild[]> {
  const { config, rules, logger } = deps;
  if (!config.mysql.url) {
    throw new SyncError(
      'CONFIG_INVALID',
      'rebuild-index needs MYSQL_URL (the rows are read there)',
    );
  }
  const opened = await openRowIndex(config, rules, logger);
  if (!opened) return [];
  const { model } = opened;
  const tables = only && only.length > 0 ? [...only] : [...model.indexed.keys()];
  const unknown = tables.filter((t) => !model.indexed.has(t));
  if (unknown.length > 0) {
    await opened.close();
    throw new SyncError(
      'CONFIG_INVALID',
      `not kept in the row index: ${unknown.join(', ')} (indexed: ${[...model.indexed.keys()].join(', ') || 'none'})`,
    );
  }
  const pool = connect({
    connectionString: withTls(config.mysql.url, config.mysql.tls),
    bigIntMode: 'string',
    dateMode: 'string',
    dateTimeMode: 'string',
    timeStampMode: 'string',
    poolSize: 1,
  });
  try {
    const out: TableRebuild[] = [];
    for (const table of tables) out.push(await rebuildTable(table, pool, opened, deps));
    return out;
  } finally {
    await pool.dispose();
    await opened.close();
  }
}

async function rebuildTable(
  table: string,
  pool: ConnectionPool,
  opened: NonNullable<Awaited<ReturnType<typeof openRowIndex>>>,
  deps: RebuildIndexDeps,
): Promise<TableRebuild> {
  const { model, index } = opened;
  const idx = model.indexed.get(table);
  const pk = model.primaryKeys.get(table);
  if (!idx || !pk || pk.length === 0) {
    throw new SyncError('CONFIG_INVALID', `${table}: primary key unknown (information_schema)`);
  }
  const ns = nsOf(deps.config.kafka.topicPrefix, table);
  // A new snapshot of the table: its stamp is taken now, before the first row is read.
  await index.write([{ ns, rows: [], snapshot: { first: true, last: false, passed: [] } }]);
  const columns = [...new Set([...pk, ...idx.columns])];
  const [{ n: total } = { n: 0 }] = (await pool.query(
    sql`SELECT COUNT(*) AS n FROM ${sql.ident(table)}`,
  )) as { n: number }[];
  let done = 0;
  let last: Row | undefined;
  for (;;) {
    const after = last
      ? sql`WHERE (${sql.join(
          pk.map((c) => sql.ident(c)),
          sql`, `,
        )}) > (${sql.join(
          pk.map((c) => sql`${last?.[c]}`),
          sql`, `,
        )})`
      : sql``;
    const rows = (await pool.query(sql`
      SELECT ${sql.join(
        columns.map((c) => sql.ident(c)),
        sql`, `,
      )} FROM ${sql.ident(table)} ${after}
       ORDER BY ${sql.join(
         pk.map((c) => sql.ident(c)),
         sql`, `,
       )} LIMIT ${CHUNK}`)) as Row[];
    if (rows.length === 0) break;
    const writes = rows.flatMap((row) => {
      const key = rowPk(model.primaryKeys, table, row, null);
      if (key === undefined) return [];
      const image = pick(row, idx.columns);
      return [{ pk: key, v: LOWEST_VERSION, row: image, refs: refsOf(image, idx.refColumns) }];
    });
    await index.write([{ ns, rows: writes }]);
    done += rows.length;
    last = rows[rows.length - 1];
    deps.progress?.update(done, Number(total), table);
  }
  await index.write([{ ns, rows: [], complete: 'rebuilt' }]);
  deps.progress?.finish(done, Number(total), table);
  const complete = (await opened.state()).find((t) => t.table === table)?.complete === true;
  return { table, rows: done, complete };
}
