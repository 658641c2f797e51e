/**
 * Applies planned key operations. Keys are de-duplicated per DB across the whole batch, deleted
 * with UNLINK in chunks; patterns are walked with SCAN (never KEYS, which blocks Redis) and the
 * matches UNLINKed chunk by chunk. Any Redis failure surfaces as a retryable REDIS_UNAVAILABLE.
 * Deleting is idempotent, so a retried or redelivered batch does no harm.
 */
import type { DbRole } from '../config/config';
import { SyncError } from '../errors';
import type { KeyOp } from '../rules/types';
import type { RedisPort } from './port';

export interface ExecutorOptions {
  readonly scanCount: number;
  readonly unlinkBatch: number;
}

export interface ApplyResult {
  /** Keys Redis reported as removed. */
  readonly deleted: number;
  /** Patterns scanned. */
  readonly scans: number;
}

export class KeyExecutor {
  constructor(
    private readonly ports: Readonly<Record<DbRole, RedisPort>>,
    private readonly options: ExecutorOptions,
  ) {}

  async apply(ops: readonly KeyOp[]): Promise<ApplyResult> {
    const byDb = groupByDb(ops);
    let deleted = 0;
    let scans = 0;
    for (const [db, { keys, patterns }] of byDb) {
      const port = this.ports[db];
      try {
        deleted += await this.unlinkAll(port, [...keys]);
        for (const pattern of patterns) {
          scans += 1;
          deleted += await this.deleteMatching(port, pattern);
        }
      } catch (err) {
        if (err instanceof SyncError) throw err;
        throw new SyncError('REDIS_UNAVAILABLE', `redis (${db} DB): ${(err as Error).message}`, {
          retryable: true,
          cause: err,
          details: { db },
        });
      }
    }
    return { deleted, scans };
  }

  private async unlinkAll(port: RedisPort, keys: string[]): Promise<number> {
    let removed = 0;
    for (let i = 0; i < keys.length; i += this.options.unlinkBatch) {
      removed += await port.unlink(...keys.slice(i, i + this.options.unlinkBatch));
    }
    return removed;
  }

  private async deleteMatching(port: RedisPort, pattern: string): Promise<number> {
    let cursor = '0';
    let removed = 0;
    do {
      const [next, found] = await port.scan(
        cursor,
        'MATCH',
        pattern,
        'COUNT',
        this.options.scanCount,
      );
      cursor = next;
      if (found.length > 0) removed += await this.unlinkAll(port, found);
    } while (cursor !== '0');
    return removed;
  }
}

function groupByDb(
  ops: readonly KeyOp[],
): Map<DbRole, { keys: Set<string>; patterns: Set<string> }> {
  const out = new Map<DbRole, { keys: Set<string>; patterns: Set<string> }>();
  for (const op of ops) {
    let entry = out.get(op.db);
    if (!entry) {
      entry = { keys: new Set(), patterns: new Set() };
      out.set(op.db, entry);
    }
    (op.action === 'pattern-delete' ? entry.patterns : entry.keys).add(op.key);
  }
  return out;
}
