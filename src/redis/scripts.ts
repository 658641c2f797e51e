/**
 * Lua scripts (each runs atomically on the node holding its keys; the keys of one script share a
 * hash slot because the version key wraps the cache key in `{…}`).
 *
 * VERSIONED_SET
 *   KEYS[1] cache key, KEYS[2] its version key
 *   ARGV[1] value, ARGV[2] TTL seconds of the value, ARGV[3] version of the change that caused
 *   the rebuild, ARGV[4] TTL seconds of the version key
 *   Writes the value unless the version key already holds a newer version (a later change was
 *   handled meanwhile: an older rebuild must not overwrite it). Returns 1 written, 0 skipped.
 *
 * VERSIONED_DELETE
 *   KEYS[1] cache key, KEYS[2] its version key; ARGV[1] version, ARGV[2] TTL of the version key
 *   Deletes the value and raises the version key to ARGV[1] (never lowers it), so a rebuild of
 *   an older change still in flight elsewhere cannot write its result afterwards. Returns the
 *   number of keys deleted (0 or 1).
 *
 * RELEASE_LOCK
 *   KEYS[1] lock key; ARGV[1] the holder's token
 *   Deletes the lock only if it still holds the token (a lock that expired and was taken by
 *   another instance is left alone). Returns 1 released, 0 not ours.
 */
export const VERSIONED_SET = `
local current = redis.call('GET', KEYS[2])
if current and current > ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
redis.call('SET', KEYS[2], ARGV[3], 'EX', tonumber(ARGV[4]))
return 1`;

export const VERSIONED_DELETE = `
local current = redis.call('GET', KEYS[2])
if not current or current < ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[1], 'EX', tonumber(ARGV[2]))
end
return redis.call('UNLINK', KEYS[1])`;

export const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * The version key of a cache key, in the key's hash slot so a script can touch both in a
 * cluster: a key with a hash tag (`a{tag}b`) keeps its tag; a key without braces is wrapped
 * into one. Undefined for the rare key whose braces form no tag (`a{}b`, `a{b`): no key can be
 * guaranteed to share its slot, so such a key is never refreshed, only deleted.
 */
export function versionKey(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open < 0) return `mcs:version:{${key}}`;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? `mcs:version:${key}` : undefined;
}

export function refreshLockKey(key: string): string {
  return `lock:refresh:${key}`;
}
