/**
 * "Keys for this pattern": the one question the executor asks of a pattern delete. Behind it,
 * the pattern index of the keyspace (pattern-index.ts) answers when it is trusted; otherwise,
 * and for patterns no class covers, the keyspace is walked (coalesced, paced by the walk
 * budget).
 *
 * Redis configuration: the index needs keyspace notifications of string writes
 * (`notify-keyspace-events` with `K` and `$`; `g`, `x`, `e` let it forget deleted, expired and
 * evicted keys, so `Kg$xe` is recommended) and PSUBSCRIBE in the ACL: `+psubscribe` and, since
 * Redis checks PSUBSCRIBE patterns literally, the exact channel patterns
 * `&__keyspace@<db>__:<class prefix>*` and `&__keyspace@<db>__:mcs:pidx:fence:*` (docs/security.md). With `MCS_PATTERN_INDEX=require` (default) the service only checks the
 * setting; with `configure` it adds the missing flags with CONFIG SET (needs `+config|set`,
 * which is not in the least-privilege ACL); `off` never indexes. When the setting is missing or
 * refused, the start-up check warns and pattern deletes walk; the service does not fail.
 * Redis Cluster: not indexed yet (every pattern delete walks each master, paced).
 */
import type Redis from 'ioredis';
import type { Config } from '../config/config';
import type { Family } from '../core/families';
import { errorMessage } from '../core/errors';
import type { RuleSet } from '../rules/registry';
import type { Logger } from '../telemetry/logger';
import type { RedisClients } from '../redis/clients';
import { unlinkAll, type Chunking } from '../redis/keyspace';
import { compileClasses, lookupFor, type ClassSource, type Lookup } from './pattern-classes';
import { NodeIndex, type TrustState } from './pattern-index';
import type { RedisPort } from '../redis/port';
import { CoalescedWalks, WalkBudget } from '../redis/walk-budget';

export type PatternIndexMode = 'require' | 'configure' | 'off';

/** Answers pattern deletes; the executor's only view of indexes and walks. */
export interface PatternDeleter {
  /** Deletes every key matching any of the patterns (each with its family); resolves to the count. */
  deleteMatching(
    port: RedisPort,
    patterns: readonly (readonly [string, Family])[],
  ): Promise<number>;
}

export interface PatternDeleteStats {
  indexed: number;
  walked: number;
}

export class PatternDeletes implements PatternDeleter {
  readonly stats: PatternDeleteStats = { indexed: 0, walked: 0 };
  private readonly walks: CoalescedWalks;

  constructor(
    readonly budget: WalkBudget,
    private readonly chunking: Chunking,
    private readonly classes: ReturnType<typeof compileClasses>,
    readonly indexes: ReadonlyMap<RedisPort, NodeIndex>,
  ) {
    this.walks = new CoalescedWalks(budget, chunking);
  }

  async deleteMatching(
    port: RedisPort,
    patterns: readonly (readonly [string, Family])[],
  ): Promise<number> {
    const index = this.indexes.get(port);
    const indexed: [string, Lookup][] = [];
    const walk: string[] = [];
    for (const [pattern, family] of patterns) {
      const l = index ? lookupFor(this.classes, family, pattern) : undefined;
      if (l) indexed.push([pattern, l]);
      else walk.push(pattern);
    }
    let removed = 0;
    if (indexed.length > 0 && index) {
      const keys = await index.keysFor(indexed.map(([, l]) => l));
      if (keys) {
        this.stats.indexed += indexed.length;
        // No forgetting here: a reader may write a key again before the UNLINK's reply, and its
        // notification arrives before that reply; the index follows the `del` notifications.
        removed += await unlinkAll(port, keys, this.chunking);
      } else walk.push(...indexed.map(([p]) => p));
    }
    if (walk.length > 0) {
      this.stats.walked += walk.length;
      removed += await this.walks.deleteMatching(port, walk);
    }
    return removed;
  }

  async close(): Promise<void> {
    await Promise.all([...this.indexes.values()].map((i) => i.close()));
  }
}

/** The pattern classes of the rules' `pattern-delete` targets. */
export function classSources(rules: RuleSet): ClassSource[] {
  const out: ClassSource[] = [];
  for (const table of rules.tables) {
    for (const t of rules.get(table)?.targets ?? []) {
      if (t.action === 'pattern-delete') out.push({ family: t.family, template: t.key });
    }
  }
  return out;
}

/** The flags of `notify-keyspace-events` the index needs, or undefined when they are there. */
export function missingNotifyFlags(current: string): string | undefined {
  const hasString = current.includes('$') || current.includes('A');
  const missing = `${current.includes('K') ? '' : 'K'}${hasString ? '' : '$'}`;
  return missing === '' ? undefined : missing;
}

export interface PatternIndexOptions {
  /** Mode, walk share, fence timeout, DBs, SCAN/UNLINK chunking. */
  readonly config: Config['redis'];
  readonly rules: RuleSet;
  readonly clients: RedisClients;
  readonly logger: Logger;
  readonly onState?: (db: number, state: TrustState, reason: string) => void;
}

/** Checks the Redis configuration, subscribes and starts the first rebuilds (not awaited). */
export async function startPatternDeletes(opts: PatternIndexOptions): Promise<PatternDeletes> {
  const { config, logger } = opts;
  const mode = config.patternIndex;
  const budget = new WalkBudget(config.walkSharePercent / 100);
  // Only templates with a placeholder are indexed: there a delete reads one bucket (a brand's
  // keys) instead of walking. A template without one (`permissions:user:*` of menus) matches the
  // whole family; indexing it would hold every such key in memory for a rare change: walked.
  const classes = compileClasses(classSources(opts.rules)).filter((c) => c.placeholders > 0);
  const indexes = new Map<RedisPort, NodeIndex>();
  const done = () => new PatternDeletes(budget, config, classes, indexes);
  if (mode === 'off' || classes.length === 0) return done();
  if (config.cluster) {
    logger.warn(
      {},
      'pattern index: not available in cluster mode yet; pattern deletes walk every master (paced)',
    );
    return done();
  }
  const families = [...new Set(classes.map((c) => c.family))];
  for (const family of families) {
    const port = opts.clients.ports[family];
    if (indexes.has(port)) continue;
    const db = config.db[family];
    const client = opts.clients.raw.find(
      (c) => !('isCluster' in c && c.isCluster) && (c as Redis).options.db === db,
    ) as Redis | undefined;
    if (!client) continue;
    if (!(await notificationsReady(client, mode, logger))) continue;
    const index = new NodeIndex({
      client,
      port,
      db,
      classes: classes.filter((c) => config.db[c.family] === db),
      budget,
      // a rebuild visits the whole DB: larger steps, fewer round trips, the same paced share
      scanCount: Math.min(config.scanCount * 10, 100_000),
      fenceTimeoutMs: config.patternFenceTimeoutMs,
      logger,
      onState: (state, reason) => opts.onState?.(db, state, reason),
    });
    await index.start();
    indexes.set(port, index);
  }
  return done();
}

/** The start-up check of `notify-keyspace-events`; false: no index (warned). */
async function notificationsReady(
  client: Redis,
  mode: PatternIndexMode,
  logger: Logger,
): Promise<boolean> {
  let current: string;
  try {
    const reply = (await client.config('GET', 'notify-keyspace-events')) as unknown;
    current = Array.isArray(reply) && typeof reply[1] === 'string' ? reply[1] : '';
  } catch (err) {
    logger.info(
      { error: errorMessage(err) },
      'pattern index: CONFIG GET notify-keyspace-events refused; the fences will tell whether notifications arrive',
    );
    return true;
  }
  const missing = missingNotifyFlags(current);
  if (missing === undefined) return true;
  if (mode === 'configure') {
    const wanted = `${current}${missing}gxe`.replace(/(.)(?=.*\1)/g, '');
    try {
      await client.config('SET', 'notify-keyspace-events', wanted);
      logger.info(
        { from: current, to: wanted },
        'pattern index: set notify-keyspace-events with CONFIG SET',
      );
      return true;
    } catch (err) {
      logger.warn(
        { current, error: errorMessage(err) },
        'pattern index off: CONFIG SET notify-keyspace-events refused; pattern deletes walk (paced)',
      );
      return false;
    }
  }
  logger.warn(
    { current, missing },
    `pattern index off: notify-keyspace-events lacks ${missing} (set it to Kg$xe, or MCS_PATTERN_INDEX=configure); pattern deletes walk (paced)`,
  );
  return false;
}
