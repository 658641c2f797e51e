/**
 * The one way to build a KeyExecutor that applies a rule set's operations: with the pattern
 * deletes of pattern-deletes.ts (the pattern index of each keyspace when it is trusted, paced and
 * coalesced walks otherwise), so a pattern delete does not walk the whole keyspace per batch.
 * Used by the service and by `replay`; close `patterns` before the Redis clients.
 */
import type { Config } from '../config/config';
import type { RowLoader } from '../mysql/loader';
import type { RuleSet } from '../rules/registry';
import type { Logger } from '../telemetry/logger';
import type { RedisClients } from '../redis/clients';
import { KeyExecutor } from './executor';
import { startPatternDeletes, type PatternDeletes } from './pattern-deletes';

export interface KeyExecutorSetup {
  readonly executor: KeyExecutor;
  /** Pattern index per DB and the walk budget; `close()` it when done. */
  readonly patterns: PatternDeletes;
}

export async function startKeyExecutor(opts: {
  readonly config: Config['redis'];
  readonly rules: RuleSet;
  readonly clients: RedisClients;
  /** MySQL loader of the refresh families; undefined: refreshes delete. */
  readonly loader: RowLoader | undefined;
  readonly logger: Logger;
  /** Told whether each pattern index (server, DB) is trusted, at every change (metrics). */
  readonly onIndexTrust?: (server: string, db: number, trusted: boolean) => void;
}): Promise<KeyExecutorSetup> {
  const { config, rules, clients, loader, logger } = opts;
  const patterns = await startPatternDeletes({
    config,
    rules,
    clients,
    logger: logger.child({ component: 'pattern-index' }),
    onState: (db, state, _reason, server) => opts.onIndexTrust?.(server, db, state === 'trusted'),
  });
  const executor = new KeyExecutor({
    ports: clients.ports,
    options: config,
    loader,
    logger: logger.child({ component: 'executor' }),
    patterns,
  });
  return { executor, patterns };
}
