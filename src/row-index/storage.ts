/**
 * Storage of the row index: implements RowIndexPort (ports.ts) for the resolve step (resolve.ts);
 * docs/rules.md "Row index".
 *
 * Layout, in its own logical DB (MCS_ROW_INDEX_DB, default 4; DB 0 in cluster mode), every key
 * of one table under one hash tag so a Lua script may touch them together on a cluster:
 *   mcs:rowidx:{<prefix>.<table>}:r:<pk>              JSON {"v": version, "r": row | null, "f": [refs]}
 *   mcs:rowidx:{<prefix>.<table>}:f:<column>:<value>  SET of primary keys (reverse lookup)
 *   mcs:rowidx:{<prefix>.<table>}:complete            the eviction stamp the table was complete at
 *   mcs:rowidx:{<prefix>.<table>}:snap                HASH of a snapshot in progress: since (stamp
 *                                                     at its start), last, n (partitions), p:<n>
 * `<pk>` is the key's values comma-joined. Live entries have no TTL (the index mirrors the
 * table); a deleted row keeps a marker `"r": null` for DELETED_TTL_S so a redelivered older
 * event cannot bring it back. Writes are ordered by the source version (binlog file/position):
 * an entry newer than the write is left as it is.
 *
 * Completeness is never taken on trust: the marker holds the server's eviction stamp (`run_id`
 * and `evicted_keys` from INFO) as of the snapshot's start, and a read counts the table complete
 * only while the stamp is unchanged. An eviction anywhere on the server (`maxmemory-policy` is
 * per server, not per logical DB) or a restart (an RDB older than the last writes) makes every
 * table incomplete: fallbacks, never a missing holder. A snapshot ends only once every partition
 * of the topic passed it (its `last` record, or a streamed change after its snapshot rows).
 */
import { SyncError, errorMessage } from '../core/errors';
import type {
  IndexEntry,
  IndexReadRequest,
  IndexReadResult,
  IndexWriteRequest,
  RowIndexPort,
} from './ports';
import type { RedisPort } from '../redis/port';
import { awaitReplicas, type WaitOptions } from '../redis/replication';

/** How long a deleted row's marker stays (Kafka's default retention: 7 days). */
export const DELETED_TTL_S = 7 * 86_400;

export function indexPrefix(ns: string): string {
  return `mcs:rowidx:{${ns}}:`;
}

/** run_id:evicted_keys: changes with every eviction and every restart of the server. */
const STAMP = `
local function stamp()
  local e = string.match(redis.call('INFO', 'stats'), 'evicted_keys:(%d+)') or '?'
  local r = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)') or '?'
  return r .. ':' .. e
end
`;

const READ = `${STAMP}
local p = ARGV[1]
local req = cjson.decode(ARGV[2])
local c = 0
if redis.call('GET', KEYS[1]) == stamp() then c = 1 end
local out = {c = c, e = {}, f = {}}
for i, pk in ipairs(req.e or {}) do
  out.e[i] = redis.call('GET', p .. 'r:' .. pk) or ''
end
for i, f in ipairs(req.f or {}) do
  local items = {''}
  for _, pk in ipairs(redis.call('SMEMBERS', p .. 'f:' .. f)) do
    items[#items + 1] = pk
    items[#items + 1] = redis.call('GET', p .. 'r:' .. pk) or ''
  end
  out.f[i] = items
end
return cjson.encode(out)`;

const WRITE = `${STAMP}
local p = ARGV[1]
local req = cjson.decode(ARGV[2])
local ttl = tonumber(ARGV[3])
local applied = 0
-- Versions compare as <epoch>#<source version>; entries written without an epoch are epoch 0.
local function norm(v)
  if string.match(v, '^%d+#') then return v end
  return '00000000#' .. v
end
local epoch = tonumber(redis.call('GET', p .. 'epoch') or '0')
local resetAt = nil
local st = req.st
if st then
  -- One partition's records in offset order: a source version lower than the one before it, or
  -- of another kind, is the binlog numbered anew (RESET MASTER, failover): a new epoch.
  local hk = p .. 'head:' .. st.p
  local lastO, lastV = nil, nil
  local head = redis.call('GET', hk)
  if head then
    local o, hv = string.match(head, '^(%d+) (.*)$')
    lastO, lastV = tonumber(o), hv
  end
  for _, r in ipairs(st.r) do
    local o = tonumber(r[1])
    if (not lastO) or o > lastO then
      if lastV and resetAt == nil and
         (string.sub(r[2], 1, 2) ~= string.sub(lastV, 1, 2) or r[2] < lastV) then
        resetAt = o
      end
      lastO, lastV = o, r[2]
    end
  end
  if resetAt then
    epoch = epoch + 1
    redis.call('SET', p .. 'epoch', epoch)
  end
  if lastO then redis.call('SET', hk, string.format('%d', lastO) .. ' ' .. lastV) end
end
for _, w in ipairs(req.w or {}) do
  local key = p .. 'r:' .. w[1]
  local cur = redis.call('GET', key)
  -- Most updates leave the indexed columns as they were: such an entry is kept as it is, version
  -- included (w[7]: only a row's own change, of a table no cascade writes to). Safe because the
  -- row's changes are read in order: every one after the entry's version held this same content,
  -- so none of them, read again, can bring back an older one.
  local same = w[7] == 1 and w[5] ~= 1 and cur and
    string.match(cur, '^{"v":"[^"]*",(.*)$') == w[3]
  local old = nil
  if cur and not same then old = cjson.decode(cur) end
  local v = w[2]
  if not string.match(v, '^%d+#') then
    local e = epoch
    if resetAt and w[6] and tonumber(w[6]) < resetAt then e = epoch - 1 end
    v = string.format('%08d', e) .. '#' .. v
  end
  if (not same) and ((not old) or norm(old.v) <= v) then
    local keep = {}
    for _, s in ipairs(w[4]) do keep[s] = true end
    if old and type(old.f) == 'table' then
      for _, s in ipairs(old.f) do
        if not keep[s] then redis.call('SREM', p .. 'f:' .. s, w[1]) end
      end
    end
    for _, s in ipairs(w[4]) do redis.call('SADD', p .. 'f:' .. s, w[1]) end
    local body = '{"v":' .. cjson.encode(v) .. ',' .. w[3]
    if w[5] == 1 then
      redis.call('SET', key, body, 'EX', ttl)
    else
      redis.call('SET', key, body)
    end
    applied = applied + 1
  end
end
local snap = KEYS[2]
local s = req.s
if s and s.first == 1 then
  redis.call('DEL', snap)
  redis.call('HSET', snap, 'since', stamp())
end
if #(req.w or {}) > 0 then redis.call('HSETNX', snap, 'since', stamp()) end
if s then
  for _, q in ipairs(s.passed or {}) do redis.call('HSET', snap, 'p:' .. q, '1') end
  if s.last == 1 then redis.call('HSET', snap, 'last', '1', 'n', s.n) end
  local n = tonumber(redis.call('HGET', snap, 'n') or '0')
  if redis.call('HGET', snap, 'last') == '1' and n > 0 then
    local all = true
    for q = 0, n - 1 do
      if redis.call('HEXISTS', snap, 'p:' .. q) == 0 then all = false end
    end
    if all then redis.call('SET', KEYS[1], redis.call('HGET', snap, 'since') or stamp()) end
  end
end
if req.c == 2 then
  redis.call('SET', KEYS[1], redis.call('HGET', snap, 'since') or '-')
elseif req.c == 1 then
  redis.call('SET', KEYS[1], stamp())
  redis.call('DEL', snap)
elseif req.c == -1 then
  redis.call('DEL', KEYS[1], snap)
end
return applied`;

const COMPLETE_CODES = { set: 1, clear: -1, rebuilt: 2 } as const;

const POLICY = `return redis.call('INFO', 'memory')`;

export class RedisRowIndex implements RowIndexPort {
  constructor(
    private readonly port: RedisPort,
    /** MCS_REDIS_WAIT_REPLICAS: the batch's executor WAITs on its own connections only. */
    private readonly wait: WaitOptions = {},
  ) {}

  async read(requests: readonly IndexReadRequest[]): Promise<IndexReadResult[]> {
    return this.guard(() =>
      Promise.all(
        requests.map(async (req) => {
          const p = indexPrefix(req.ns);
          const body = JSON.stringify({
            e: req.pks.length > 0 ? req.pks : undefined,
            f: req.refs.length > 0 ? req.refs.map(([c, v]) => `${c}:${v}`) : undefined,
          });
          const raw = (await this.port.eval(READ, [`${p}complete`], [p, body])) as string;
          const json = JSON.parse(raw) as { c: number; e?: unknown; f?: unknown };
          const e = asList<string>(json.e);
          const f = asList<string[]>(json.f);
          return {
            complete: json.c === 1,
            entries: req.pks.map((_pk, i) => parseEntry(e[i])),
            refs: req.refs.map((_r, i) => {
              const items = asList<string>(f[i]).slice(1);
              const out: { pk: string; entry: IndexEntry | null }[] = [];
              for (let j = 0; j + 1 < items.length; j += 2) {
                out.push({ pk: String(items[j]), entry: parseEntry(items[j + 1]) });
              }
              return out;
            }),
          };
        }),
      ),
    );
  }

  /** Whether each namespace's index is complete now (the gauge, `check`). */
  async completeness(nss: readonly string[]): Promise<boolean[]> {
    const got = await this.read(nss.map((ns) => ({ ns, pks: [], refs: [] })));
    return got.map((r) => r.complete);
  }

  /** The eviction setting of the index's server (INFO memory; per server, not per DB). */
  async evictionPolicy(): Promise<{ policy: string; maxmemory: number }> {
    const info = (await this.guard(() => this.port.eval(POLICY, [], []))) as string;
    return {
      policy: /maxmemory_policy:(\S+)/.exec(info)?.[1] ?? 'unknown',
      maxmemory: Number(/maxmemory:(\d+)/.exec(info)?.[1] ?? NaN),
    };
  }

  async write(requests: readonly IndexWriteRequest[]): Promise<void> {
    await this.guard(() =>
      Promise.all(
        requests.map((req) => {
          const p = indexPrefix(req.ns);
          const body = JSON.stringify({
            w:
              req.rows.length > 0
                ? req.rows.map((r) => [
                    r.pk,
                    r.v,
                    JSON.stringify({ r: r.row, f: r.refs }).slice(1),
                    r.refs,
                    r.row === null ? 1 : 0,
                    r.offset ?? false,
                    r.keepSame === true ? 1 : 0,
                  ])
                : undefined,
            c: req.complete ? COMPLETE_CODES[req.complete] : 0,
            st:
              req.stream && req.stream.records.length > 0
                ? { p: req.stream.partition, r: req.stream.records }
                : undefined,
            s: req.snapshot
              ? {
                  first: req.snapshot.first ? 1 : 0,
                  last: req.snapshot.last ? 1 : 0,
                  n: req.snapshot.partitions ?? 0,
                  passed: req.snapshot.passed.length > 0 ? req.snapshot.passed : undefined,
                }
              : undefined,
          });
          return this.port.eval(WRITE, [`${p}complete`, `${p}snap`], [p, body, DELETED_TTL_S]);
        }),
      ),
    );
    // An entry lost in a failover would give a later flattened update old key columns older
    // than the row's last state: the keys of that state would never be deleted.
    await awaitReplicas([this.port], this.wait);
  }

  private async guard<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      if (err instanceof SyncError) throw err;
      throw new SyncError('REDIS_UNAVAILABLE', `redis (row index): ${errorMessage(err)}`, {
        retryable: true,
        cause: err,
      });
    }
  }
}

/** cjson encodes an empty Lua table as {}: read it as an empty list. */
function asList<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

function parseEntry(text: unknown): IndexEntry | null {
  if (typeof text !== 'string' || text === '') return null;
  const json = JSON.parse(text) as { v: string; r: Record<string, unknown> | null };
  // The epoch prefix is the storage's own: the port speaks source versions.
  return { v: json.v.replace(/^\d+#/, ''), row: json.r };
}
