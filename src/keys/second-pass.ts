/**
 * The delayed second invalidation. A cache-aside reader can miss, read the old row, lose the race
 * to the invalidation and write the old value back after the key was deleted. Applying the same
 * operations again a moment later (MCS_SECOND_PASS_DELAY_MS) removes what such a reader wrote.
 *
 * Pending passes live in Redis (a sorted set scored by due time), written before the batch's
 * offsets are committed, so a restart loses none. A drainer claims due entries by pushing their
 * score forward (not removing them), applies them, then removes them: an instance that dies
 * mid-pass leaves them to be claimed again.
 *
 * One member holds the operations of a batch (up to MEMBER_OPS of them), not one operation each:
 * per operation, the sorted set cost Redis a ZADD, a re-scoring ZADD, a ZSCORE and a ZREM, more
 * CPU than the deletes themselves (bench/results/HISTORY.md, "The floor, and the second pass made
 * cheap"). A member is `{"k":{<family>:[<key>,…]},"o":[<operation>,…]}`: the plain deletes as
 * keys per family (most of a batch, a third of the bytes of whole operations to write, claim and
 * parse), the other operations whole. Members written by earlier versions (a JSON array of
 * operations, or one operation) are still read.
 *
 * CLAIM_DUE
 *   KEYS[1] the sorted set; ARGV[1] now (ms), ARGV[2] claim deadline (ms), ARGV[3] max entries
 *   Returns up to ARGV[3] members due by ARGV[1], re-scored to ARGV[2].
 * ADD_ALL / REMOVE_CLAIMED: see their comments.
 */
import { SyncError, errorMessage } from '../core/errors';
import type { Family } from '../core/families';
import { mergeOp, type KeyOp } from '../rules/ops';
import type { Logger } from '../telemetry/logger';
import type { ApplyResult } from './executor';
import type { RedisPort } from '../redis/port';

export const SECOND_PASS_KEY = 'mcs:second-pass';
const CLAIM_MS = 30_000;
/** Operations per member. */
const MEMBER_OPS = 500;
/** Members per ZADD call. */
const ADD_MEMBERS = 1000;
/** Members claimed (and applied together) per round. */
const CLAIM_MEMBERS = 4;

const CLAIM_DUE = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], member) end
return due`;

/** ZADD of many members with one score, in one call (via EVAL, to keep the port narrow). */
const ADD_ALL = `
local args = {}
for i = 2, #ARGV do args[#args + 1] = ARGV[1]; args[#args + 1] = ARGV[i] end
redis.call('ZADD', KEYS[1], unpack(args))
return #ARGV - 1`;

/**
 * ZREM of the applied members still scored with this claim's deadline (ARGV[1]); a member
 * scheduled again meanwhile has a new score and stays for its own pass.
 */
const REMOVE_CLAIMED = `
local n = 0
for i = 2, #ARGV do
  if tonumber(redis.call('ZSCORE', KEYS[1], ARGV[i])) == tonumber(ARGV[1]) then n = n + redis.call('ZREM', KEYS[1], ARGV[i]) end
end
return n`;

export interface Applier {
  apply(ops: readonly KeyOp[]): Promise<ApplyResult>;
}

/** What a SecondPass is built from. */
export interface SecondPassDeps {
  /** Connection holding the sorted set of pending passes. */
  readonly port: RedisPort;
  /** MCS_SECOND_PASS_DELAY_MS; 0: nothing is scheduled (left passes still drain). */
  readonly delayMs: number;
  readonly logger: Logger;
  /** The sorted set; SECOND_PASS_KEY when absent. */
  readonly key?: string;
  /** Clock (ms); Date.now when absent. */
  readonly now?: () => number;
}

export class SecondPass {
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;

  private readonly port: RedisPort;
  private readonly delayMs: number;
  private readonly logger: Logger;
  private readonly key: string;
  private readonly now: () => number;

  constructor(deps: SecondPassDeps) {
    this.port = deps.port;
    this.delayMs = deps.delayMs;
    this.logger = deps.logger;
    this.key = deps.key ?? SECOND_PASS_KEY;
    this.now = deps.now ?? Date.now;
  }

  /** Records the operations for a second application after the delay. */
  async schedule(ops: readonly KeyOp[]): Promise<void> {
    if (ops.length === 0 || this.delayMs === 0) return;
    const members: string[] = [];
    for (let i = 0; i < ops.length; i += MEMBER_OPS)
      members.push(memberOf(ops.slice(i, i + MEMBER_OPS)));
    const due = this.now() + this.delayMs;
    const calls: Promise<unknown>[] = [];
    // Lua's unpack takes a few thousand values at most: calls of up to ADD_MEMBERS members.
    for (let i = 0; i < members.length; i += ADD_MEMBERS) {
      calls.push(this.port.eval(ADD_ALL, [this.key], [due, ...members.slice(i, i + ADD_MEMBERS)]));
    }
    try {
      await Promise.all(calls); // pipelined on the connection: one round trip
    } catch (err) {
      // Redis's refusal is an outage like the executor's: the batch waits with backoff.
      if (err instanceof SyncError) throw err;
      throw new SyncError('REDIS_UNAVAILABLE', `redis (second pass): ${errorMessage(err)}`, {
        retryable: true,
        details: { key: this.key },
        cause: err,
      });
    }
  }

  /** Starts draining due passes every `intervalMs`. */
  start(
    applier: Applier,
    intervalMs = Math.max(50, Math.min(this.delayMs / 4 || 1000, 1000)),
  ): void {
    const tick = () => {
      this.draining = this.drain(applier)
        .then(() => undefined)
        .catch((err: unknown) =>
          this.logger.warn({ error: errorMessage(err) }, 'second pass failed; retrying'),
        )
        .finally(() => {
          if (this.timer !== undefined) this.timer = setTimeout(tick, intervalMs);
        });
    };
    this.timer = setTimeout(tick, intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.draining;
  }

  /** Applies every due pass once; resolves to the number of operations applied. */
  async drain(applier: Applier): Promise<number> {
    let applied = 0;
    for (;;) {
      const now = this.now();
      const deadline = now + CLAIM_MS;
      const claim = [now, deadline, CLAIM_MEMBERS];
      const members = (await this.port.eval(CLAIM_DUE, [this.key], claim)) as string[];
      if (members.length === 0) return applied;
      // Batches close together often repeat a key: each claim applies it once.
      const claimed = new ClaimedOps();
      for (const member of members) claimed.add(member);
      const ops = claimed.ops();
      await applier.apply(ops);
      await this.port.eval(REMOVE_CLAIMED, [this.key], [deadline, ...members]);
      applied += ops.length;
    }
  }
}

/**
 * A refresh's parameters may hold a BigInt (a BIGINT column beyond 2^53): JSON has no such type,
 * so it is written as `{"$bigint":"<digits>"}` and read back as a BigInt, losslessly.
 */
function memberReplacer(ops: ReadonlySet<object>) {
  return function (this: unknown, key: string, value: unknown): unknown {
    // An operation's reason is for explain only: the pass repeats it, not its explanation.
    if (key === 'reason' && ops.has(this as object)) return undefined;
    return typeof value === 'bigint' ? { $bigint: value.toString() } : value;
  };
}

/**
 * An operation memberReplacer may rewrite: one with a reason (explain), or a refresh with a
 * BigInt parameter (or an object one, which could hold a BigInt).
 */
function needsReplacer(op: KeyOp): boolean {
  if (op.reason !== undefined) return true;
  return (
    op.action === 'refresh' &&
    op.params.some((p) => typeof p === 'bigint' || (typeof p === 'object' && p !== null))
  );
}

function bigintReviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const digits = (value as { $bigint?: unknown }).$bigint;
    if (keys.length === 1 && typeof digits === 'string' && /^-?\d+$/.test(digits))
      return BigInt(digits);
  }
  return value;
}

/** The member of a chunk of operations: plain deletes as keys per family, the rest whole. */
function memberOf(chunk: readonly KeyOp[]): string {
  const k: Partial<Record<Family, string[]>> = {};
  const o: KeyOp[] = [];
  for (const op of chunk) {
    if (isPlainDelete(op)) (k[op.family] ??= []).push(op.key);
    else o.push(op);
  }
  if (o.length === 0) return JSON.stringify({ k });
  // A replacer makes JSON.stringify several times slower: only for chunks that need one.
  return o.some(needsReplacer)
    ? JSON.stringify({ k, o }, memberReplacer(new Set<object>(o)))
    : JSON.stringify({ k, o });
}

/** A delete a member stores as its key alone (no fallback to keep with it). */
function isPlainDelete(op: KeyOp): boolean {
  return op.action === 'delete' && op.fallback === undefined;
}

/** The operations of one claim's members: each delete once per family, refreshes merged. */
class ClaimedOps {
  private readonly keys = new Map<Family, Set<string>>();
  private readonly others = new Map<string, KeyOp>();

  add(member: string): void {
    // A reviver makes JSON.parse several times slower: only for members that hold a BigInt.
    const parsed = (
      member.includes('"$bigint"') ? JSON.parse(member, bigintReviver) : JSON.parse(member)
    ) as KeyOp | KeyOp[] | StoredMember;
    if (Array.isArray(parsed)) {
      for (const op of parsed) this.addOp(op); // earlier versions: an array of operations
    } else if ('action' in parsed) {
      this.addOp(parsed); // earliest versions: one operation
    } else {
      for (const [family, keys] of Object.entries(parsed.k ?? {}) as [Family, string[]][]) {
        const set = this.keysOf(family);
        for (const key of keys) set.add(key);
      }
      for (const op of parsed.o ?? []) this.addOp(op);
    }
  }

  ops(): KeyOp[] {
    const out: KeyOp[] = [];
    for (const [family, keys] of this.keys) {
      for (const key of keys) out.push({ family, action: 'delete', key });
    }
    for (const op of this.others.values()) out.push(op);
    return out;
  }

  private addOp(op: KeyOp): void {
    if (isPlainDelete(op)) this.keysOf(op.family).add(op.key);
    else mergeOp(this.others, op);
  }

  private keysOf(family: Family): Set<string> {
    let set = this.keys.get(family);
    if (!set) this.keys.set(family, (set = new Set()));
    return set;
  }
}

/** A member as written now (see the file's comment). */
interface StoredMember {
  readonly k?: Partial<Record<Family, string[]>>;
  readonly o?: KeyOp[];
}
