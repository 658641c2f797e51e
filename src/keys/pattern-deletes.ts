/**
 * "Keys for this pattern": the one question the executor asks of a pattern delete. Behind it,
 * the pattern index of the keyspace (pattern-index.ts) answers when it is trusted; otherwise,
 * and for patterns no class covers, the keyspace is walked (coalesced, paced by the walk
 * budget).
 *
 * Redis configuration: the index needs keyspace notifications of every way a key is made
 * (`notify-keyspace-events` with `K`, `g` and every value type `$lshzt`, or `KA`; `x`, `e` let it
 * forget expired and evicted keys, so `KA` or `Kg$lshztxe` is recommended) and PSUBSCRIBE in the ACL: `+psubscribe` and, since
 * Redis checks PSUBSCRIBE patterns literally, the exact channel patterns
 * `&__keyspace@<db>__:<class prefix>*` and `&__keyspace@<db>__:mcs:pidx:fence:*` (docs/security.md). With `MCS_PATTERN_INDEX=require` (default) the service only checks the
 * setting; with `configure` it adds the missing flags with CONFIG SET (needs `+config|set`,
 * which is not in the least-privilege ACL); `off` never indexes. When the setting is missing or
 * refused, the start-up check warns and the index stays untrusted (pattern deletes walk) until the
 * setting is whole; the service does not fail.
 * Redis Cluster: one index per master (cluster-index.ts); a delete walks only the masters whose
 * index cannot answer.
 */
import type { Cluster, default as Redis } from 'ioredis';
import type { Config } from '../config/config';
import type { Family } from '../core/families';
import { errorMessage } from '../core/errors';
import type { RuleSet } from '../rules/registry';
import type { Logger } from '../telemetry/logger';
import type { RedisClients } from '../redis/clients';
import { missingNotifyFlags, readNotifyFlags, unlinkAll, type Chunking } from '../redis/keyspace';
import { compileClasses, lookupFor, type ClassSource, type Lookup } from './pattern-classes';
import { ClusterIndex } from './cluster-index';
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
  /** Patterns answered by an index (on a cluster: per master whose index answered). */
  indexed: number;
  /** Patterns walked (on a cluster: per master walked). */
  walked: number;
}

/** Rounds of a cluster delete when the slot ownership keeps changing under it. */
const CLUSTER_ATTEMPTS = 3;

export class PatternDeletes implements PatternDeleter {
  readonly stats: PatternDeleteStats = { indexed: 0, walked: 0 };
  private readonly walks: CoalescedWalks;

  constructor(
    readonly budget: WalkBudget,
    private readonly chunking: Chunking,
    private readonly classes: ReturnType<typeof compileClasses>,
    private readonly standalone: ReadonlyMap<RedisPort, NodeIndex>,
    /** The per-master indexes of a cluster, and its port (what the executor passes). */
    readonly cluster?: { readonly index: ClusterIndex; readonly port: RedisPort },
  ) {
    this.walks = new CoalescedWalks(budget, chunking);
  }

  /** Every index: per DB (standalone) or per master's walk port (cluster). */
  get indexes(): ReadonlyMap<RedisPort, NodeIndex> {
    return this.cluster ? this.cluster.index.indexes : this.standalone;
  }

  deleteMatching(
    port: RedisPort,
    patterns: readonly (readonly [string, Family])[],
  ): Promise<number> {
    if (this.cluster && port === this.cluster.port)
      return this.deleteOnCluster(this.cluster.index, port, patterns);
    return this.deleteOn(this.standalone.get(port), port, port, patterns);
  }

  /**
   * Each master's index answers for that master's keys; only the masters whose index cannot
   * answer are walked. A delete that ran across a change of the slot ownership is done again on
   * the new owners (their indexes rebuilt first), so no key is left on a master nobody asked.
   */
  private async deleteOnCluster(
    cluster: ClusterIndex,
    port: RedisPort,
    patterns: readonly (readonly [string, Family])[],
  ): Promise<number> {
    let removed = 0;
    for (let attempt = 1; ; attempt++) {
      await cluster.sync();
      const generation = cluster.generation;
      try {
        const counts = await Promise.all(
          cluster.current.map((m) => this.deleteOn(m.index, m.port, port, patterns)),
        );
        removed += counts.reduce((a, b) => a + b, 0);
      } catch (err) {
        if (cluster.generation === generation || attempt >= CLUSTER_ATTEMPTS) throw err;
        continue;
      }
      if (cluster.generation === generation) return removed;
      if (attempt >= CLUSTER_ATTEMPTS)
        throw new Error('redis cluster: slot ownership kept changing during a pattern delete');
    }
  }

  /** The index's answer (UNLINK through `unlinkPort`), or a walk of `walkPort`'s nodes. */
  private async deleteOn(
    index: NodeIndex | undefined,
    walkPort: RedisPort,
    unlinkPort: RedisPort,
    patterns: readonly (readonly [string, Family])[],
  ): Promise<number> {
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
        removed += await unlinkAll(unlinkPort, keys, this.chunking);
      } else walk.push(...indexed.map(([p]) => p));
    }
    if (walk.length > 0) {
      this.stats.walked += walk.length;
      removed += await this.walks.deleteMatching(walkPort, walk);
    }
    return removed;
  }

  async close(): Promise<void> {
    await Promise.all([
      ...[...this.standalone.values()].map((i) => i.close()),
      this.cluster?.index.close(),
    ]);
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

export interface PatternIndexOptions {
  /** Mode, walk share, fence timeout, DBs, SCAN/UNLINK chunking. */
  readonly config: Config['redis'];
  readonly rules: RuleSet;
  readonly clients: RedisClients;
  readonly logger: Logger;
  /** Every state change of an index, with its server (`host:port`) and DB (metrics, tests). */
  readonly onState?: (db: number, state: TrustState, reason: string, server: string) => void;
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
  // a rebuild visits the whole DB: larger steps, fewer round trips, the same paced share
  const scanCount = Math.min(config.scanCount * 10, 100_000);
  if (config.cluster) {
    const cluster = opts.clients.raw.find((c): c is Cluster => 'isCluster' in c && c.isCluster);
    if (!cluster) return done();
    const port = opts.clients.ports[classes[0]?.family ?? 'stats'];
    const index = new ClusterIndex({
      cluster,
      port,
      classes,
      budget,
      scanCount,
      fenceTimeoutMs: config.patternFenceTimeoutMs,
      logger,
      prepare: (client) => prepareNotifications(client, mode, logger),
      onState: (server, state, reason) => opts.onState?.(0, state, reason, server),
    });
    await index.start();
    return new PatternDeletes(budget, config, classes, indexes, { index, port });
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
    await prepareNotifications(client, mode, logger);
    const server = serverName(client);
    const index = new NodeIndex({
      client,
      port,
      db,
      classes: classes.filter((c) => config.db[c.family] === db),
      budget,
      scanCount,
      fenceTimeoutMs: config.patternFenceTimeoutMs,
      logger,
      onState: (state, reason) => opts.onState?.(db, state, reason, server),
    });
    await index.start();
    indexes.set(port, index);
  }
  return done();
}

function serverName(client: Redis): string {
  const { host, port, sentinels, name } = client.options;
  return sentinels && name ? `sentinel:${name}` : `${host ?? 'localhost'}:${port ?? 6379}`;
}

/**
 * The start-up look at `notify-keyspace-events`: what is missing is warned about (the index
 * stays untrusted and deletes walk until the setting is whole: pattern-index.ts reads it again
 * at every fence), or added with CONFIG SET in `configure` mode.
 */
async function prepareNotifications(
  client: Redis,
  mode: PatternIndexMode,
  logger: Logger,
): Promise<void> {
  let current: string;
  try {
    current = await readNotifyFlags(client);
  } catch (err) {
    logger.warn(
      { error: errorMessage(err) },
      'pattern index untrusted: CONFIG GET notify-keyspace-events refused, a partial feed cannot be ruled out (grant +config|get); pattern deletes walk (paced)',
    );
    return;
  }
  const missing = missingNotifyFlags(current);
  if (missing === undefined) return;
  if (mode === 'configure') {
    const wanted = `${current}${missing}xe`.replace(/(.)(?=.*\1)/g, '');
    try {
      await client.config('SET', 'notify-keyspace-events', wanted);
      logger.info(
        { from: current, to: wanted },
        'pattern index: set notify-keyspace-events with CONFIG SET',
      );
      return;
    } catch (err) {
      logger.warn(
        { current, error: errorMessage(err) },
        'pattern index untrusted: CONFIG SET notify-keyspace-events refused; pattern deletes walk (paced)',
      );
      return;
    }
  }
  logger.warn(
    { current, missing },
    `pattern index untrusted: notify-keyspace-events lacks ${missing} (set it to KA or Kg$lshztxe, or MCS_PATTERN_INDEX=configure); pattern deletes walk (paced) until it is whole`,
  );
}
