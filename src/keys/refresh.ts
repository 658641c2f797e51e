/**
 * Rebuilding one key from MySQL: under `lock:refresh:{key}` (SET NX, lock TTL, released only by
 * its holder) so instances do not stampede the database, written by VERSIONED_SET so an older
 * rebuild never overwrites a newer change. When the rebuild cannot or must not write (lock busy,
 * newer version, no loader, query failed, no co-located version key) the caller's policy
 * decides: `delete` (a change made the key stale: delete it, readers rebuild it) or `skip` (a
 * warm-up: leave the key as it is).
 */
import { randomUUID } from 'node:crypto';
import type { Family } from '../core/families';
import { errorMessage } from '../core/errors';
import type { RowLoader } from '../mysql/loader';
import type { RefreshOp } from '../rules/ops';
import type { Logger } from '../telemetry/logger';
import type { RedisPort } from '../redis/port';
import { encodeValue, type ValueFormat } from './value-format';
import {
  RELEASE_LOCK,
  VERSIONED_DELETE,
  VERSIONED_SET,
  refreshLockKey,
  versionKey,
} from '../redis/scripts';

export type ConflictPolicy = 'delete' | 'skip';

export interface RefreshOutcome {
  readonly outcome: 'written' | 'deleted' | 'skipped';
  /** Keys removed (0 or 1). */
  readonly deleted: number;
  readonly why?: string;
}

export interface RefreshContext {
  readonly port: RedisPort;
  readonly loader: RowLoader | undefined;
  readonly ttl: Readonly<Record<Family | 'lock', number>>;
  readonly logger: Logger;
  /** How the rebuilt value is written (JSON when absent). */
  readonly format?: ValueFormat;
}

export async function refreshKey(
  ctx: RefreshContext,
  op: RefreshOp,
  policy: ConflictPolicy,
): Promise<RefreshOutcome> {
  const { port, loader, ttl } = ctx;
  const verKey = versionKey(op.key);
  const verTtl = Math.max(ttl[op.family], ttl.lock);
  const giveUp = async (why: string): Promise<RefreshOutcome> => {
    if (policy === 'skip') return { outcome: 'skipped', deleted: 0, why };
    const deleted =
      verKey === undefined
        ? await port.unlink([op.key])
        : Number(await port.eval(VERSIONED_DELETE, [op.key, verKey], [op.version, verTtl]));
    ctx.logger.debug({ key: op.key, why }, 'refresh fell back to delete');
    return { outcome: 'deleted', deleted, why };
  };
  if (verKey === undefined) return giveUp('no version key can share the key slot');
  if (!loader) return giveUp('no loader');
  const lock = refreshLockKey(op.key);
  const token = randomUUID();
  if (!(await port.setNx(lock, token, ttl.lock)))
    return giveUp('another instance holds the refresh lock');
  try {
    let rows: Record<string, unknown>[];
    try {
      rows = await loader.query(op.sql, op.params);
    } catch (err) {
      ctx.logger.warn(
        { key: op.key, error: errorMessage(err) },
        `refresh query failed (${policy})`,
      );
      return await giveUp('query failed');
    }
    const written = await port.eval(
      VERSIONED_SET,
      [op.key, verKey],
      [encodeValue(ctx.format ?? 'json', rows), ttl[op.family], op.version, verTtl],
    );
    return Number(written) === 1
      ? { outcome: 'written', deleted: 0 }
      : await giveUp('a newer change was already applied');
  } finally {
    await port.eval(RELEASE_LOCK, [lock], [token]);
  }
}
