/**
 * Applied marks: what the consumer group as a whole has applied, per source transaction, kept in
 * Redis (temp DB) so every instance writes its share and any instance (or `wait-applied`) can
 * answer for all of them.
 *
 * - `ev:<tx>`: the `total_order` of every event of the transaction whose key operations Redis
 *   acknowledged; added after the ack, before the offsets are committed (like the commit).
 * - `end:<tx>`: how many events of the transaction the service consumes (from the END record's
 *   per-table counts: watched databases, ruled tables); `order`: the transactions in END order,
 *   which is the binlog's.
 * - `frontier:<stream>`: the rank (positions.ts) of the newest transaction that is complete with
 *   every transaction before it; a position at or below it is applied, also one whose transaction
 *   carried no event the service consumes.
 * - `bad:<tx>`: an event of it was rejected (dead-lettered): never reported applied.
 *
 * A transaction is complete once `|ev| >= end`: whichever partition, whichever instance, applied
 * the last of its events. Redelivered events add nothing (a set). Everything expires after TTL.
 * All keys share one hash tag, so the scripts run on a cluster as well.
 */
import type { RedisPort } from '../../redis/port';
import type { SourcePosition } from './positions';

export const APPLIED_PREFIX = 'mcs:{applied}:';
/** Marks outlive any wait by far; a day also covers a long consumer lag. */
const TTL_SECONDS = 86_400;
/** Transactions popped per advance (bounded script time). */
export const ADVANCE_MAX = 10_000;

/** One event applied: ARGV triples (tx, total_order, binlog rank or ''), `bad` flag per triple. */
const RECORD_EVENTS = `
local p, ttl = ARGV[1], tonumber(ARGV[2])
for i = 3, #ARGV, 4 do
  local id = ARGV[i]
  local ev = p .. 'ev:' .. id
  redis.call('SADD', ev, ARGV[i + 1])
  redis.call('EXPIRE', ev, ttl)
  local b = ARGV[i + 2]
  if b ~= '' then
    local k = p .. 'pos:' .. id
    local cur = redis.call('GET', k)
    if (not cur) or cur < b then redis.call('SET', k, b, 'EX', ttl) end
  end
  if ARGV[i + 3] == '1' then redis.call('SET', p .. 'bad:' .. id, '1', 'EX', ttl) end
end
return 1`;

/** An END record: its expected count, and its place in the order (once, redelivery or not). */
const RECORD_END = `
local p, ttl = ARGV[1], tonumber(ARGV[2])
local e = p .. 'end:' .. ARGV[3]
if redis.call('EXISTS', e) == 1 then return 0 end
redis.call('SET', e, ARGV[4], 'EX', ttl)
redis.call('RPUSH', p .. 'order', ARGV[3] .. '\\n' .. ARGV[5] .. '\\n' .. ARGV[6])
redis.call('EXPIRE', p .. 'order', ttl)
return 1`;

/**
 * Pops complete transactions off the head of the order and moves the frontiers (never back),
 * then answers for one position: ARGV prefix, max pops, tx id (or ''), stream, rank.
 * Returns 'applied', 'rejected' or 'pending'. Exported for the tests' atomic oracle.
 */
export const ADVANCE_AND_ANSWER = `
local p, max = ARGV[1], tonumber(ARGV[2])
local function raise(key, rank)
  local cur = redis.call('GET', key)
  if (not cur) or cur < rank then redis.call('SET', key, rank) end
end
local function complete(id)
  local exp = redis.call('GET', p .. 'end:' .. id)
  if not exp then return false end
  return redis.call('SCARD', p .. 'ev:' .. id) >= tonumber(exp)
end
for _ = 1, max do
  local entry = redis.call('LINDEX', p .. 'order', 0)
  if not entry then break end
  local id, stream, rank = string.match(entry, '^([^\\n]*)\\n([^\\n]*)\\n([^\\n]*)$')
  if id and redis.call('EXISTS', p .. 'end:' .. id) == 1 and not complete(id) then break end
  redis.call('LPOP', p .. 'order')
  if id then
    if stream ~= '' then raise(p .. 'frontier:' .. stream, rank) end
    local b = redis.call('GET', p .. 'pos:' .. id)
    if b then raise(p .. 'frontier:binlog', b) end
  end
end
local id = ARGV[3]
if id ~= '' then
  if redis.call('EXISTS', p .. 'bad:' .. id) == 1 then return 'rejected' end
  if complete(id) then return 'applied' end
end
local f = redis.call('GET', p .. 'frontier:' .. ARGV[4])
if f and f >= ARGV[5] then
  if id ~= '' and redis.call('EXISTS', p .. 'bad:' .. id) == 1 then return 'rejected' end
  return 'applied'
end
return 'pending'`;

export interface AppliedEvent {
  readonly txId: string;
  readonly totalOrder: number;
  /** The event's binlog position (source file, pos), for the binlog fallback. */
  readonly binlog?: SourcePosition;
  /** Rejected (dead-lettered): its transaction is never reported applied. */
  readonly rejected?: boolean;
}

export type AppliedAnswer = 'applied' | 'pending' | 'rejected';

export class AppliedMarks {
  constructor(
    private readonly port: RedisPort,
    private readonly prefix: string = APPLIED_PREFIX,
  ) {}

  /** After Redis acknowledged the events' key operations, before their offsets are committed. */
  async recordEvents(events: readonly AppliedEvent[]): Promise<void> {
    if (events.length === 0) return;
    const args: (string | number)[] = [this.prefix, TTL_SECONDS];
    for (const e of events) {
      args.push(e.txId, e.totalOrder, e.binlog?.rank ?? '', e.rejected ? '1' : '0');
    }
    await this.port.eval(RECORD_EVENTS, [], args);
  }

  /**
   * An END record: `expected` events of the transaction the service consumes; `position` is the
   * transaction id read as a GTID (undefined when it is not one: the binlog marks order it).
   */
  async recordEnd(
    txId: string,
    expected: number,
    position: SourcePosition | undefined,
  ): Promise<void> {
    await this.port.eval(
      RECORD_END,
      [],
      [this.prefix, TTL_SECONDS, txId, expected, position?.stream ?? '', position?.rank ?? ''],
    );
  }

  /** Moves the frontiers over complete transactions and answers for the position. */
  async answer(position: SourcePosition): Promise<AppliedAnswer> {
    const txId = position.kind === 'gtid' ? position.text : '';
    const r = await this.port.eval(
      ADVANCE_AND_ANSWER,
      [],
      [this.prefix, ADVANCE_MAX, txId, position.stream, position.rank],
    );
    return r === 'applied' || r === 'rejected' ? r : 'pending';
  }

  /** Moves the frontiers only (after the service recorded marks). */
  async advance(): Promise<void> {
    await this.port.eval(ADVANCE_AND_ANSWER, [], [this.prefix, ADVANCE_MAX, '', '-', '~']);
  }

  /** Polls until applied (or rejected) or the timeout; `pending` on timeout. */
  async wait(position: SourcePosition, timeoutMs: number, pollMs = 10): Promise<AppliedAnswer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const a = await this.answer(position);
      if (a !== 'pending' || Date.now() >= deadline) return a;
      await new Promise((r) => setTimeout(r, Math.min(pollMs, Math.max(1, deadline - Date.now()))));
    }
  }
}
