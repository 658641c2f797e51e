/**
 * Opens the row index and what it serves at start: reads the watched database's foreign-key
 * graph (MYSQL_URL), derives which tables the index keeps (src/row-index/model.ts), logs each
 * cascade / set-null edge into a ruled table with how it is handled, and connects the index's
 * Redis keyspace and the MySQL lookups of `via` targets. `describeForeignKeys` is the same
 * report for the `check` command.
 */
import { withTls } from '../mysql/loader';
import type { Config } from '../config/config';
import { errorMessage } from '../core/errors';
import { loadSchemaGraph, type SchemaGraph } from './fk-graph';
import { createRelatedRows } from './related';
import { createKeyspaceClient } from '../redis/clients';
import { RedisRowIndex } from './storage';
import { nsOf } from './requests';
import type { RuleSet } from '../rules/registry';
import type { RelatedRowsPort, RowIndexPort } from './ports';
import { buildRowModel, describeRowModel, type RowModel } from './model';
import type { Logger } from '../telemetry/logger';

export interface OpenRowIndex {
  readonly model: RowModel;
  readonly index: RowIndexPort;
  readonly related?: RelatedRowsPort;
  /** Completeness per indexed table, now (the gauge). */
  state(): Promise<TableState[]>;
  /** The eviction setting of the index's server. */
  evictionPolicy(): Promise<{ policy: string; maxmemory: number }>;
  close(): Promise<void>;
}

export interface TableState {
  readonly table: string;
  readonly complete: boolean;
}

/** Completeness of every indexed table of the model. */
export async function tableStates(
  index: RedisRowIndex,
  model: RowModel,
  topicPrefix: string,
): Promise<TableState[]> {
  const tables = [...model.indexed.keys()];
  const complete = await index.completeness(tables.map((t) => nsOf(topicPrefix, t)));
  return tables.map((table, i) => ({ table, complete: complete[i] === true }));
}

/** The FK graph of the configured database, or undefined (logged) when it cannot be read. */
export async function readGraph(config: Config, logger: Logger): Promise<SchemaGraph | undefined> {
  if (!config.mysql.url) {
    logger.warn(
      'MYSQL_URL not set: foreign keys unknown, cascades into ruled tables are not handled',
    );
    return undefined;
  }
  try {
    return await loadSchemaGraph(
      withTls(config.mysql.url, config.mysql.tls),
      config.kafka.database,
    );
  } catch (err) {
    logger.error(
      { error: errorMessage(err) },
      'foreign-key graph unreadable (information_schema): cascades into ruled tables are not handled',
    );
    return undefined;
  }
}

/** For `check`: one line per silent FK edge and per indexed table. */
export async function describeForeignKeys(
  config: Config,
  rules: RuleSet,
  logger: Logger,
): Promise<string[]> {
  return describeRowModel(buildRowModel(rules, await readGraph(config, logger)));
}

export async function openRowIndex(
  config: Config,
  rules: RuleSet,
  logger: Logger,
): Promise<OpenRowIndex | undefined> {
  const log = logger.child({ component: 'row-index' });
  const model = buildRowModel(rules, await readGraph(config, log));
  for (const c of model.cascades) {
    log.info(
      { edge: c.edge.name, child: c.edge.child, parent: c.edge.parent, handling: c.handling },
      `foreign key ${c.note}`,
    );
  }
  for (const t of model.indexed.values()) {
    log.info(
      { table: t.table, columns: t.columns, by: t.refColumns, db: config.redis.rowIndexDb },
      `row index kept: ${t.reasons.join('; ')}`,
    );
  }
  if (model.indexed.size === 0 && model.cascadesByParent.size === 0 && model.vias.size === 0) {
    return undefined;
  }
  const client = createKeyspaceClient(config.redis, config.redis.rowIndexDb, log);
  await client.ready();
  const related = config.mysql.url
    ? createRelatedRows(withTls(config.mysql.url, config.mysql.tls))
    : undefined;
  const index = new RedisRowIndex(client.port, {
    replicas: config.redis.waitReplicas,
    timeoutMs: config.redis.waitTimeoutMs,
  });
  const { policy, maxmemory } = await index.evictionPolicy().catch(() => ({
    policy: 'unknown',
    maxmemory: NaN,
  }));
  if (!evictionSafe(policy, maxmemory)) {
    log.warn(
      { policy, maxmemory, db: config.redis.rowIndexDb },
      'the row index lives on a Redis that evicts: every eviction on that server makes every table incomplete (family-wide fallbacks); give it a server with maxmemory-policy noeviction',
    );
  }
  return {
    model,
    index,
    state: () => tableStates(index, model, config.kafka.topicPrefix),
    evictionPolicy: () => index.evictionPolicy(),
    ...(related ? { related } : {}),
    async close() {
      await client.close();
      await related?.close();
    },
  };
}

/** Whether a server never evicts the index's entries (`maxmemory-policy` is per server). */
export function evictionSafe(policy: string, maxmemory: number): boolean {
  return policy === 'noeviction' || maxmemory === 0;
}
