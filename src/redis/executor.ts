/**
 * Applies planned key operations. Keys are de-duplicated per keyspace across the whole batch and
 * deleted with UNLINK in chunks; patterns are walked with SCAN on every node of the keyspace
 * (never KEYS, which blocks Redis) and the matches UNLINKed chunk by chunk. Refreshes rebuild a
 * key from MySQL under a lock, versioned so an older rebuild never overwrites a newer change;
 * when the lock is busy or MySQL fails, the key is deleted instead (readers rebuild it).
 * Any Redis failure surfaces as a retryable REDIS_UNAVAILABLE; every step is idempotent, so a
 * retried or redelivered batch does no harm.
 */
import type { Family } from '../config/families';
import { SyncError, errorMessage } from '../errors';
import type { RowLoader } from '../mysql/loader';
import type { KeyOp, RefreshOp } from '../rules/ops';
import type { Logger } from '../telemetry/logger';
import { deleteMatching, unlinkAll } from './keyspace';
import type { RedisPort } from './port';
import { refreshKey } from './refresh';

export interface ExecutorOptions {
  readonly scanCount: number;
  readonly unlinkBatch: number;
  readonly ttl: Readonly<Record<Family | 'lock', number>>;
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
  keys: Set<string>;
  patterns: Set<string>;
  refreshes: RefreshOp[];
}

export class KeyExecutor {
  constructor(
    private readonly ports: Readonly<Record<Family, RedisPort>>,
    private readonly options: ExecutorOptions,
    private readonly loader: RowLoader | undefined,
    private readonly logger: Logger,
  ) {}

  async apply(ops: readonly KeyOp[]): Promise<ApplyResult> {
    const result: ApplyResult = { deleted: 0, scans: 0, refreshed: 0, refreshFallbacks: 0 };
    for (const [port, group] of this.group(ops)) {
      try {
        result.deleted += await unlinkAll(port, [...group.keys], this.options);
        if (group.patterns.size > 0) {
          result.scans += group.patterns.size;
          result.deleted += await deleteMatching(port, [...group.patterns], this.options);
        }
        for (const op of group.refreshes) await this.refresh(port, op, result);
      } catch (err) {
        if (err instanceof SyncError) throw err;
        throw new SyncError('REDIS_UNAVAILABLE', `redis: ${errorMessage(err)}`, {
          retryable: true,
          cause: err,
        });
      }
    }
    return result;
  }

  private group(ops: readonly KeyOp[]): Map<RedisPort, Group> {
    const out = new Map<RedisPort, Group>();
    for (const op of ops) {
      const port = this.ports[op.family];
      let g = out.get(port);
      if (!g) {
        g = { keys: new Set(), patterns: new Set(), refreshes: [] };
        out.set(port, g);
      }
      if (op.action === 'refresh') g.refreshes.push(op);
      else (op.action === 'pattern-delete' ? g.patterns : g.keys).add(op.key);
    }
    return out;
  }

  private async refresh(port: RedisPort, op: RefreshOp, result: ApplyResult): Promise<void> {
    const ctx = { port, loader: this.loader, ttl: this.options.ttl, logger: this.logger };
    const { outcome, deleted } = await refreshKey(ctx, op, 'delete');
    if (outcome === 'written') result.refreshed += 1;
    else result.refreshFallbacks += 1;
    result.deleted += deleted;
  }
}
