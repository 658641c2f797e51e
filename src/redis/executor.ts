/**
 * Applies planned key operations. Keys are de-duplicated per keyspace across the whole batch and
 * deleted with UNLINK in chunks; patterns are walked with SCAN on every node of the keyspace
 * (never KEYS, which blocks Redis) and the matches UNLINKed chunk by chunk. Refreshes rebuild a
 * key from MySQL under a lock, versioned so an older rebuild never overwrites a newer change;
 * when the lock is busy or MySQL fails, the key is deleted instead (readers rebuild it).
 * Any Redis failure surfaces as a retryable REDIS_UNAVAILABLE; every step is idempotent, so a
 * retried or redelivered batch does no harm.
 */
import { randomUUID } from 'node:crypto';
import type { Family } from '../config/families';
import { SyncError, errorMessage } from '../errors';
import type { RowLoader } from '../mysql/loader';
import type { KeyOp, RefreshOp } from '../rules/ops';
import type { Logger } from '../telemetry/logger';
import { deleteMatching, unlinkAll } from './keyspace';
import type { RedisPort } from './port';
import {
  RELEASE_LOCK,
  VERSIONED_DELETE,
  VERSIONED_SET,
  refreshLockKey,
  versionKey,
} from './scripts';

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
    const { ttl } = this.options;
    const verKey = versionKey(op.key);
    if (verKey === undefined) {
      // No version key can share this key's slot: deleting is the safe choice.
      result.refreshFallbacks += 1;
      result.deleted += await port.unlink([op.key]);
      return;
    }
    const verTtl = Math.max(ttl[op.family], ttl.lock);
    const fallback = async (why: string) => {
      result.refreshFallbacks += 1;
      result.deleted += Number(
        await port.eval(VERSIONED_DELETE, [op.key, verKey], [op.version, verTtl]),
      );
      this.logger.debug({ key: op.key, why }, 'refresh fell back to delete');
    };
    const lock = refreshLockKey(op.key);
    const token = randomUUID();
    if (!this.loader || !(await port.setNx(lock, token, ttl.lock))) {
      await fallback(this.loader ? 'another instance holds the refresh lock' : 'no loader');
      return;
    }
    try {
      let rows: Record<string, unknown>[];
      try {
        rows = await this.loader.query(op.sql, op.params);
      } catch (err) {
        this.logger.warn(
          { key: op.key, error: errorMessage(err) },
          'refresh query failed: key deleted instead',
        );
        await fallback('query failed');
        return;
      }
      const written = await port.eval(
        VERSIONED_SET,
        [op.key, verKey],
        [JSON.stringify(rows), ttl[op.family], op.version, verTtl],
      );
      if (Number(written) === 1) result.refreshed += 1;
      else await fallback('a newer change was already applied');
    } finally {
      await port.eval(RELEASE_LOCK, [lock], [token]);
    }
  }
}
