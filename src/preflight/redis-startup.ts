/**
 * Checks run once at start, after Redis answers:
 *
 * - Memory settings (`CONFIG GET maxmemory-policy`, `maxmemory`): an `allkeys-*` policy lets
 *   Redis evict any key under memory pressure, locks (`lock:*`) and queued work (the application's
 *   job queue in DB 3, this service's pending second passes) included; `maxmemory 0` means no
 *   limit at all. Each is warned about once per server. A server that refuses CONFIG (an ACL
 *   without `+config|get`, a managed Redis) only makes the check skipped.
 * - Logical DBs: every DB a family is configured for must exist on the server. ioredis reports a
 *   failed SELECT on connect only as an event and goes on in DB 0, so deletes would hit the
 *   wrong DB; an explicit SELECT here stops the service instead, naming the setting. (In cluster
 *   mode config.ts already puts every family in DB 0, the only one a cluster has.)
 * - The topology (topology.ts): every sentinel, replica and cluster node with a problem is
 *   logged by host:port (a warning; the service starts: invalidation works without them, and
 *   `/readyz` keeps reporting them).
 */
import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';
import type { Config } from '../config/config';
import { FAMILIES } from '../core/families';
import { configError, errorMessage } from '../core/errors';
import type { Logger } from '../telemetry/logger';
import { inspectTopology, masters } from '../redis/topology';

/** Setting names of each family's DB, for error messages. */
const DB_SETTINGS = {
  session: 'MCS_REDIS_DB_SESSION (redis.db.session)',
  permissions: 'MCS_REDIS_DB_PERMISSIONS (redis.db.permissions)',
  master: 'MCS_REDIS_DB_MASTER (redis.db.master)',
  stats: 'MCS_REDIS_DB_STATS (redis.db.stats)',
  temp: 'MCS_REDIS_DB_TEMP (redis.db.temp)',
} as const;

export interface MemorySettings {
  readonly policy: string;
  readonly maxmemory: number;
}

/** The warnings the memory settings call for (pure; one text per problem). */
export function memoryWarnings({ policy, maxmemory }: MemorySettings): string[] {
  const out: string[] = [];
  if (policy.startsWith('allkeys-')) {
    out.push(
      `maxmemory-policy is ${policy}: under memory pressure Redis may evict any key, including ` +
        'locks (lock:*), queued jobs (DB 3) and pending second passes (mcs:second-pass); ' +
        'a volatile-* policy evicts only keys with a TTL',
    );
  }
  if (maxmemory === 0) {
    out.push(
      'maxmemory is 0 (no limit): the cache grows until the host runs out of memory and the ' +
        'eviction policy never applies; set maxmemory',
    );
  }
  return out;
}

/** `CONFIG GET name` → the value, or undefined when the server does not have it. */
async function configGet(node: Redis, name: string): Promise<string | undefined> {
  const reply = (await node.config('GET', name)) as unknown;
  if (!Array.isArray(reply)) return undefined;
  const i = reply.indexOf(name);
  const value: unknown = i >= 0 ? reply[i + 1] : reply[1];
  return typeof value === 'string' ? value : undefined;
}

/** Reads the memory settings of one server and logs what is wrong; never throws. */
export async function checkMemorySettings(
  node: Redis,
  server: string,
  logger: Logger,
): Promise<MemorySettings | undefined> {
  let policy: string | undefined;
  let maxmemory: string | undefined;
  try {
    policy = await configGet(node, 'maxmemory-policy');
    maxmemory = await configGet(node, 'maxmemory');
  } catch (err) {
    logger.info(
      { server, error: errorMessage(err) },
      'redis memory checks skipped: CONFIG GET refused',
    );
    return undefined;
  }
  if (policy === undefined || maxmemory === undefined) return undefined;
  const settings = { policy, maxmemory: Number(maxmemory) };
  for (const warning of memoryWarnings(settings)) {
    logger.warn({ server, ...settings }, `redis: ${warning}`);
  }
  return settings;
}

/** Every configured DB must be selectable; throws CONFIG_INVALID naming the setting(s). */
export async function checkDatabases(
  raw: readonly (Redis | Cluster)[],
  config: Config['redis'],
): Promise<void> {
  if (config.cluster) return;
  for (const c of raw) {
    if ((c as Cluster).isCluster) continue;
    const client = c as Redis;
    const db = client.options.db ?? 0;
    try {
      await client.select(db);
    } catch (err) {
      const settings = FAMILIES.filter((f) => config.db[f] === db).map((f) => DB_SETTINGS[f]);
      let count = '';
      try {
        const databases = await configGet(client, 'databases');
        if (databases !== undefined)
          count = ` (the server has ${databases}: 0 to ${Number(databases) - 1})`;
      } catch {
        // CONFIG refused: the SELECT error says enough
      }
      throw configError(
        settings.join(', ') || `DB ${db}`,
        `logical DB ${db} is not available on the Redis server${count}: ${errorMessage(err)}`,
      );
    }
  }
}

/** All three; memory settings once per master (each master of a cluster), named by host:port. */
export async function runStartupChecks(
  raw: readonly (Redis | Cluster)[],
  config: Config['redis'],
  logger: Logger,
): Promise<void> {
  await checkDatabases(raw, config);
  for (const [server, node] of masters(raw)) await checkMemorySettings(node, server, logger);
  await logTopology(raw, config, logger);
}

/** Logs every node of the topology with a problem; never throws. */
export async function logTopology(
  raw: readonly (Redis | Cluster)[],
  config: Config['redis'],
  logger: Logger,
): Promise<void> {
  try {
    const findings = await inspectTopology(raw, config, 2000);
    for (const f of findings) {
      if (f.ok) continue;
      logger.warn(
        { node: f.node, role: f.role, critical: f.critical === true },
        `redis ${f.role} ${f.node}: ${f.detail}`,
      );
    }
    logger.debug(
      { nodes: findings.map((f) => `${f.role} ${f.node}${f.ok ? '' : ' (!)'}`) },
      'redis topology',
    );
  } catch (err) {
    logger.warn({ error: errorMessage(err) }, 'redis topology not inspected');
  }
}
