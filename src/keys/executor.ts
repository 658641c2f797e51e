/**
 * Applies planned key operations. Keys are de-duplicated per keyspace across the whole batch and
 * deleted with UNLINK in chunks; patterns are walked with SCAN on every node of the keyspace
 * (never KEYS, which blocks Redis) and the matches UNLINKed chunk by chunk. Refreshes rebuild a
 * key from MySQL under a lock, versioned so an older rebuild never overwrites a newer change;
 * when the lock is busy or MySQL fails, the key is deleted instead (readers rebuild it).
 * Any Redis failure surfaces as a retryable REDIS_UNAVAILABLE; every step is idempotent, so a
 * retried or redelivered batch does no harm.
 */
import type { Family } from '../core/families';
import { SyncError, errorMessage } from '../core/errors';
import type { RowLoader } from '../mysql/loader';
import type { KeyOp, RefreshOp } from '../rules/ops';
import type { Logger } from '../telemetry/logger';
import type { FamilyCounts, FamilyTally } from '../telemetry/types';
import { deleteMatching, unlinkAll } from '../redis/keyspace';
import type { PatternDeleter } from './pattern-deletes';
import type { RedisPort } from '../redis/port';
import { refreshKey } from './refresh';
import { awaitReplicas } from '../redis/replication';
import type { ValueFormats } from './value-format';

export interface ExecutorOptions {
  readonly scanCount: number;
  readonly unlinkBatch: number;
  readonly ttl: Readonly<Record<Family | 'lock', number>>;
  /** MCS_REDIS_WAIT_REPLICAS: replicas that must hold a batch's writes before its commit. */
  readonly waitReplicas?: number;
  readonly waitTimeoutMs?: number;
  /** Format of rebuilt values per family (JSON when absent). */
  readonly valueFormats?: ValueFormats;
}

export interface ApplyResult {
  /** Keys Redis reported as removed. */
  deleted: number;
  /** Patterns scanned (each on every node). */
  scans: number;
  /** Keys rebuilt from MySQL. */
  refreshed: number;
  /** Refreshes that deleted instead (lock busy, newer version present, or MySQL failed). */
  refreshFallbacks: number;
}

interface Group {
  /**
   * The exact keys and, at the same index, each one's family; families sharing a DB share a
   * group. Lists, not a map: the operations come de-duplicated, and a key twice in one UNLINK
   * is removed (and counted) once.
   */
  keys: string[];
  keyFamilies: Family[];
  /** glob → its family */
  patterns: Map<string, Family>;
  refreshes: RefreshOp[];
}

/** What a KeyExecutor is built from. */
export interface KeyExecutorDeps {
  readonly ports: Readonly<Record<Family, RedisPort>>;
  readonly options: ExecutorOptions;
  /** MySQL loader of the refresh families; undefined: refreshes delete. */
  readonly loader: RowLoader | undefined;
  readonly logger: Logger;
  /** Pattern deletes through the pattern index (service); absent: every pattern is walked. */
  readonly patterns?: PatternDeleter;
}

export class KeyExecutor {
  private readonly ports: Readonly<Record<Family, RedisPort>>;
  private readonly options: ExecutorOptions;
  private readonly loader: RowLoader | undefined;
  private readonly logger: Logger;
  private readonly patterns: PatternDeleter | undefined;

  constructor(deps: KeyExecutorDeps) {
    this.ports = deps.ports;
    this.options = deps.options;
    this.loader = deps.loader;
    this.logger = deps.logger;
    this.patterns = deps.patterns;
  }

  /**
   * With `tally`, the counts are also added up per family there; families sharing a DB then
   * get an UNLINK (and a SCAN walk) each instead of sharing one, so Redis can say whose keys
   * it removed.
   */
  async apply(ops: readonly KeyOp[], tally?: FamilyTally): Promise<ApplyResult> {
    const result: ApplyResult = { deleted: 0, scans: 0, refreshed: 0, refreshFallbacks: 0 };
    const groups = [...this.group(ops)];
    try {
      // Exact deletes first, every keyspace at once: security keys (sessions, permissions) never
      // wait behind a pattern walk of the same batch. The batch still counts as done only when
      // everything below is acknowledged too.
      await Promise.all(
        groups.map(async ([port, group]) => {
          for (const [family, keys] of split(group.keys, group.keyFamilies, tally)) {
            const n = await unlinkAll(port, keys, this.options);
            result.deleted += n;
            if (family && tally) counts(tally, family).deleted += n;
          }
        }),
      );
      await Promise.all(
        groups.map(async ([port, group]) => {
          result.scans += group.patterns.size;
          const globs = [...group.patterns.keys()];
          const families = [...group.patterns.values()];
          for (const [family, patterns] of split(globs, families, tally)) {
            const n = await this.deletePatterns(port, patterns, group.patterns);
            result.deleted += n;
            if (family && tally) counts(tally, family).patternDeleted += n;
          }
          for (const op of group.refreshes) await this.refresh(port, op, result, tally);
        }),
      );
    } catch (err) {
      if (err instanceof SyncError) throw err;
      throw new SyncError('REDIS_UNAVAILABLE', `redis: ${errorMessage(err)}`, {
        retryable: true,
        cause: err,
      });
    }
    return result;
  }

  /** The replication barrier on every family's connection (src/redis/replication.ts). */
  async replicated(): Promise<void> {
    const { waitReplicas, waitTimeoutMs } = this.options;
    const wait = { replicas: waitReplicas, timeoutMs: waitTimeoutMs };
    await awaitReplicas(Object.values(this.ports), wait, this.logger);
  }

  /** "Keys for these patterns": the pattern index or a walk (pattern-deletes.ts), else a SCAN walk. */
  private deletePatterns(
    port: RedisPort,
    patterns: readonly string[],
    families: ReadonlyMap<string, Family>,
  ): Promise<number> {
    if (!this.patterns) return deleteMatching(port, patterns, this.options);
    return this.patterns.deleteMatching(
      port,
      patterns.map((p) => [p, families.get(p) as Family] as const),
    );
  }

  private group(ops: readonly KeyOp[]): Map<RedisPort, Group> {
    const out = new Map<RedisPort, Group>();
    for (const op of ops) {
      const port = this.ports[op.family];
      let g = out.get(port);
      if (!g) {
        g = { keys: [], keyFamilies: [], patterns: new Map(), refreshes: [] };
        out.set(port, g);
      }
      if (op.action === 'refresh') g.refreshes.push(op);
      else if (op.action === 'pattern-delete') g.patterns.set(op.key, op.family);
      else {
        g.keys.push(op.key);
        g.keyFamilies.push(op.family);
      }
    }
    return out;
  }

  private async refresh(
    port: RedisPort,
    op: RefreshOp,
    result: ApplyResult,
    tally: FamilyTally | undefined,
  ): Promise<void> {
    const ctx = {
      port,
      loader: this.loader,
      ttl: this.options.ttl,
      logger: this.logger,
      format: this.options.valueFormats?.[op.family] ?? 'json',
    };
    const { outcome, deleted } = await refreshKey(ctx, op, 'delete');
    if (outcome === 'written') result.refreshed += 1;
    else result.refreshFallbacks += 1;
    result.deleted += deleted;
    if (tally) {
      const c = counts(tally, op.family);
      if (outcome === 'written') c.refreshed += 1;
      else c.refreshFallbacks += 1;
      c.deleted += deleted;
    }
  }
}

/**
 * The keys of a group (`families[i]` is the family of `keys[i]`), in one list (no tally: one
 * UNLINK or SCAN walk for the whole DB) or one list per family; empty lists are left out.
 */
function split(
  keys: string[],
  families: readonly Family[],
  tally: FamilyTally | undefined,
): [Family | undefined, string[]][] {
  if (keys.length === 0) return [];
  if (!tally) return [[undefined, keys]];
  const first = families[0] as Family;
  if (families.every((f) => f === first)) return [[first, keys]];
  const out = new Map<Family, string[]>();
  for (let i = 0; i < keys.length; i++) {
    const family = families[i] as Family;
    const list = out.get(family);
    if (list) list.push(keys[i] as string);
    else out.set(family, [keys[i] as string]);
  }
  return [...out];
}

function counts(tally: FamilyTally, family: Family): FamilyCounts {
  let c = tally.get(family);
  if (!c) {
    c = { deleted: 0, patternDeleted: 0, refreshed: 0, refreshFallbacks: 0 };
    tally.set(family, c);
  }
  return c;
}
