/**
 * Startup check of the Redis ACL user: every command the service sends, on the key patterns it
 * uses, is asked of the server with `redis.acl_check_cmd` inside one EVAL (Redis 7+), which runs
 * nothing. A refused command stops the service at start, naming the commands and keys, instead of
 * failing every batch later with NOPERM. A server without `acl_check_cmd` (Redis < 7) skips it.
 */
import type Redis from 'ioredis';
import { isSentinelUrl, parseSentinelUrl } from '../config/sentinel';
import type { Cluster } from 'ioredis';
import type { Config } from '../config/config';
import { FAMILIES } from '../core/families';
import { SyncError } from '../core/errors';

const PROBE = 'mcs-acl-check';

/** The commands of the service (executor, refresh scripts, second pass, schedule, startup). */
export function requiredCommands(config: Config['redis']): string[][] {
  const out: string[][] = [['ping'], ['info'], ['client', 'setname', 'mis-cache-sync']];
  if (!config.cluster) {
    for (const db of new Set(Object.values(config.db))) out.push(['select', String(db)]);
  }
  out.push(['scan', '0', 'MATCH', '*', 'COUNT', '10']);
  out.push(['eval', 'return 1', '0']);
  for (const family of FAMILIES) {
    const key = `${family}:${PROBE}`;
    out.push(['unlink', key], ['get', key], ['set', key, 'v', 'EX', '1'], ['del', key]);
  }
  for (const key of [`lock:${PROBE}`, `mcs:version:${PROBE}`]) {
    out.push(['set', key, 'v', 'EX', '1', 'NX'], ['get', key], ['del', key]);
  }
  const zset = 'mcs:second-pass';
  out.push(
    ['zadd', zset, '0', PROBE],
    ['zrangebyscore', zset, '-inf', '0', 'LIMIT', '0', '1'],
    ['zrem', zset, PROBE],
    ['zscore', zset, PROBE],
  );
  // the row index (its Lua scripts read and write these under mcs:rowidx:*)
  const row = `mcs:rowidx:{${PROBE}}:f:c:v`;
  out.push(['exists', row], ['sadd', row, PROBE], ['srem', row, PROBE], ['smembers', row]);
  // its snapshot progress and completeness stamp (hashes, storage.ts)
  const snap = `mcs:rowidx:{${PROBE}}:snap`;
  out.push(
    ['hget', snap, 'n'],
    ['hset', snap, 'n', '1'],
    ['hsetnx', snap, 'n', '1'],
    ['hexists', snap, 'n'],
  );
  if (config.waitReplicas > 0) out.push(['wait', '1', '0']);
  return out;
}

const SCRIPT = `
if not redis.acl_check_cmd then return -1 end
local refused = {}
for _, c in ipairs(cjson.decode(ARGV[1])) do
  local ok, allowed = pcall(redis.acl_check_cmd, unpack(c))
  if not ok or not allowed then table.insert(refused, table.concat(c, ' ')) end
end
return refused`;

/** Throws ACCESS_DENIED listing what the user may not run; resolves when everything is allowed. */
export async function checkRedisAcl(
  client: Redis | Cluster,
  config: Config['redis'],
  where: string,
): Promise<'checked' | 'unsupported'> {
  const reply = (await client.eval(SCRIPT, 0, JSON.stringify(requiredCommands(config)))) as unknown;
  if (reply === -1) return 'unsupported';
  const refused = Array.isArray(reply) ? reply.map(String) : [];
  if (refused.length === 0) return 'checked';
  const user =
    (isSentinelUrl(config.url)
      ? parseSentinelUrl(config.url).username
      : decodeURIComponent(new URL(config.url).username)) || 'default';
  throw new SyncError(
    'ACCESS_DENIED',
    `redis (${where}): the ACL user "${user}" may not run ${refused.length} command(s) the ` +
      `service needs: ${refused.join('; ')}. Fix: give "${user}" the ACL of docs/security.md ` +
      '"Production security" (e.g. ACL SETUSER <user> +<command> ~<key pattern>)',
    { details: { part: 'redis', refused } },
  );
}
