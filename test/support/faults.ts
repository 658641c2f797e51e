/**
 * Fault injection shared by the fault suite and the soak: stopping and starting parts of the
 * local stack, the Sentinel setup, and the service settings the fault tests run with.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import type { ConnectionPool } from '@databases/mysql';
import { ROOT } from './service-process';
import { sql } from './stack';

const run = promisify(execFile);

/** `scripts/stack.sh part stop|start <part>`, without blocking the event loop. */
export async function stackPart(action: 'stop' | 'start', part: string): Promise<void> {
  await run('bash', [`${ROOT}/scripts/stack.sh`, 'part', action, part], { cwd: ROOT });
}

export const SENTINEL_BASE = Number(process.env.REDIS_SENTINEL_BASE_PORT || 17011);
export const SENTINEL_MASTER = 'mis-master';

/** `scripts/stack/redis-sentinel.sh <args>` on SENTINEL_BASE; its stdout. */
export function sentinelScript(...args: string[]): string {
  return execFileSync('bash', [`${ROOT}/scripts/stack/redis-sentinel.sh`, ...args], {
    cwd: ROOT,
    env: { ...process.env, REDIS_SENTINEL_BASE_PORT: String(SENTINEL_BASE) },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/** The service's URL for the Sentinel setup (three sentinels, one master name). */
export function sentinelRedisUrl(): string {
  const sentinels = [2, 3, 4].map((i) => `127.0.0.1:${SENTINEL_BASE + i}`);
  return `redis+sentinel://${sentinels.join(',')}/${SENTINEL_MASTER}`;
}

/** One read grant (menu 1) for each of the users, a hundred rows a statement. */
export async function insertGrants(db: ConnectionPool, users: readonly number[]): Promise<void> {
  for (let i = 0; i < users.length; i += 100) {
    const rows = users.slice(i, i + 100).map((u) => sql`(${u}, 1, 'Y')`);
    await db.query(
      sql`INSERT INTO user_auth (user_id, menu_id, read_yn) VALUES ${sql.join(rows, ', ')}`,
    );
  }
}

/** Service settings of the fault tests: a short session, no second pass, quick retries. */
export function faultServiceEnv(
  group: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    MCS_GROUP_ID: group,
    MCS_SESSION_TIMEOUT_MS: '6000',
    MCS_SECOND_PASS_DELAY_MS: '0',
    MCS_RETRY_MAX_DELAY_MS: '500',
    ...extra,
  };
}
