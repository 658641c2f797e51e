/**
 * The pattern index of one Redis server's logical DB (on a cluster: of one master, DB 0, see
 * cluster-index.ts): the keys of every pattern class
 * (pattern-classes.ts), learnt from keyspace notifications, so a pattern delete reads the index
 * and UNLINKs what it holds instead of walking the keyspace.
 *
 * Trust. Notifications are fire-and-forget, so the index is only used while it is `trusted`:
 * - at start, and after any gap (the subscriber connection closed: Redis restarted, failed over,
 *   killed the subscriber for its output buffer, a network blip), it is `untrusted`; a rebuild
 *   then walks the DB (paced by the walk budget) while notifications keep coming in, and only a
 *   complete walk bracketed by two fences makes it `trusted` again;
 * - a fence is a SET of this instance's own fence key followed by the wait for its notification
 *   on the subscriber: when it arrives, every notification of a write made before the fence has
 *   arrived too (Redis runs commands one at a time and a subscriber receives in order). Every
 *   answer from the index is preceded by a fence; a fence that does not come back within
 *   `MCS_PATTERN_FENCE_TIMEOUT_MS` (notifications turned off at run time, a lost subscription
 *   not yet noticed) makes the index untrusted and the delete walks instead.
 * - the feed must be whole: `notify-keyspace-events` with every class a key can be made in
 *   (redis/keyspace.ts: RENAME, COPY, RESTORE, MOVE notify in `g`, hashes, lists, sets, sorted
 *   sets and streams in their own). It is read again with every fence and every 10 s, so a
 *   setting trimmed by an operator at run time makes the index untrusted at the next answer; it
 *   is rebuilt once the setting is whole again. A feed that cannot be read is not trusted.
 * - the DB must still be the one indexed: SWAPDB, FLUSHDB and FLUSHALL notify nothing. A marker
 *   key set by the rebuild is checked by every fence (in the same script as its SET): gone or
 *   changed, the DB's contents changed under the index, which is rebuilt.
 * Pattern deletes asked while a rebuild runs wait for it (the rebuild's walk serves them too);
 * asked while the index is untrusted otherwise, they get `undefined` and the caller walks.
 */
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { errorMessage } from '../core/errors';
import type { Logger } from '../telemetry/logger';
import { placeKey, type Lookup, type PatternClass } from './pattern-classes';
import { notifyFeedProblem } from '../redis/keyspace';
import type { RedisPort } from '../redis/port';
import { commonPrefix, escapeLiteral, type WalkBudget } from '../redis/walk-budget';

export type TrustState = 'untrusted' | 'rebuilding' | 'trusted' | 'off';

/** Notification events after which the key no longer exists. */
const GONE = new Set(['del', 'expired', 'evicted', 'rename_from', 'move_from']);
const FENCE_TTL_MS = 60_000;
/** The marker outlives any gap between fences; each fence renews it. */
const MARK_TTL_MS = 86_400_000;
/** How often a trusted index fences on its own (feed setting, marker, notifications). */
const CHECK_MS = 10_000;
/**
 * SET of the fence; then, once a marker was set (ARGV[3] not empty), whether it is still ours:
 * 1 yes (renewed), 0 the DB's contents changed (SWAPDB, FLUSHDB/FLUSHALL, evicted).
 * KEYS[1] fence, KEYS[2] marker; ARGV fence value, fence TTL ms, marker token, marker TTL ms.
 */
const FENCE_SCRIPT = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[3] == '' then return 1 end
if redis.call('GET', KEYS[2]) ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
return 1`;
const DB_REPLACED =
  'the DB changed under the index (SWAPDB, FLUSHDB/FLUSHALL, a restart with other data, or its marker evicted)';
/** First retry of a failed rebuild; doubles up to MAX_RETRY_MS while rebuilds keep failing. */
const RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

export interface NodeIndexOptions {
  /** Data connection of the DB (fence SET), and the port whose nodes a rebuild walks. */
  readonly client: Redis;
  readonly port: RedisPort;
  readonly db: number;
  readonly classes: readonly PatternClass[];
  readonly budget: WalkBudget;
  readonly scanCount: number;
  readonly fenceTimeoutMs: number;
  readonly logger: Logger;
  /** Told every state change (metrics, tests). */
  readonly onState?: (state: TrustState, reason: string) => void;
  /** Why the notification feed cannot be trusted now; default: the server's setting read. */
  readonly feedProblem?: () => Promise<string | undefined>;
  /**
   * Hash tag of the fence and marker keys (`{tag}` in their names), so that on a cluster master
   * they fall in a slot that master owns: its fence is notified by that node only.
   */
  readonly keyTag?: string;
}

interface ClassKeys {
  readonly buckets: Map<string, Set<string>>;
  readonly aside: Set<string>;
}

export class NodeIndex {
  private stateNow: TrustState = 'untrusted';
  private epoch = 0;
  private keys = new Map<number, ClassKeys>();
  private sub: Redis | undefined;
  private readonly instance = randomUUID().slice(0, 8);
  private fenceSent = 0;
  private fenceSeen = 0;
  private waiters: { n: number; resolve: (ok: boolean) => void }[] = [];
  private rebuilding: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private retryMs = RETRY_MS;
  private closed = false;
  private readonly channelPrefix: string;
  /** `{tag}:` in the fence and marker keys (cluster), '' standalone. */
  private readonly tag: string;
  /** The marker's value while a rebuild or a trusted index relies on it; '' before. */
  private markToken = '';
  private checkTimer: NodeJS.Timeout | undefined;
  private checking = false;
  private feedWarned = false;

  constructor(private readonly opts: NodeIndexOptions) {
    this.channelPrefix = `__keyspace@${opts.db}__:`;
    this.tag = opts.keyTag === undefined ? '' : `{${opts.keyTag}}:`;
  }

  private get markKey(): string {
    return `mcs:pidx:mark:${this.tag}${this.instance}:${this.opts.db}`;
  }

  private feedProblem(): Promise<string | undefined> {
    return this.opts.feedProblem ? this.opts.feedProblem() : notifyFeedProblem(this.opts.client);
  }

  get state(): TrustState {
    return this.stateNow;
  }

  /** Keys the index holds (every class), for metrics and tests. */
  get size(): number {
    let n = 0;
    for (const c of this.keys.values()) {
      n += c.aside.size;
      for (const b of c.buckets.values()) n += b.size;
    }
    return n;
  }

  private get fenceKey(): string {
    return `mcs:pidx:fence:${this.tag}${this.instance}:${this.opts.db}:${this.epoch}`;
  }

  /** Subscribes and starts the first rebuild; a refused PSUBSCRIBE turns the index off. */
  async start(): Promise<void> {
    const sub = this.opts.client.duplicate({ connectionName: 'mis-cache-sync:pattern-index' });
    this.sub = sub;
    sub.on('error', (err: Error) =>
      this.opts.logger.debug({ err: err.message }, 'pattern index subscriber error'),
    );
    sub.on('pmessage', (_p: string, channel: string, event: string) =>
      this.onNotification(channel, event),
    );
    sub.on('close', () => this.untrust('subscriber connection closed'));
    sub.on('ready', () => {
      // ioredis subscribes again on reconnect; the gap is closed by a rebuild.
      if (this.stateNow !== 'untrusted') return;
      if (this.retry) clearTimeout(this.retry);
      this.retry = undefined;
      this.retryMs = RETRY_MS;
      this.scheduleRebuild(0);
    });
    try {
      await sub.psubscribe(...this.channels());
    } catch (err) {
      this.off(
        `PSUBSCRIBE refused (${errorMessage(err)}): check the ACL (+psubscribe and the channel patterns of docs/security.md)`,
      );
      sub.disconnect();
      return;
    }
    this.scheduleRebuild(0);
    // A trusted index fences on its own too: a trimmed feed or a swapped DB shows while idle.
    this.checkTimer = setInterval(() => void this.check(), CHECK_MS);
    this.checkTimer.unref();
  }

  private async check(): Promise<void> {
    if (this.stateNow !== 'trusted' || this.checking) return;
    this.checking = true;
    try {
      await this.fence();
    } catch (err) {
      this.untrust(`fence failed: ${errorMessage(err)}`);
      this.scheduleRebuild(this.retryMs);
    } finally {
      this.checking = false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.checkTimer) clearInterval(this.checkTimer);
    if (this.retry) clearTimeout(this.retry);
    this.epoch += 1;
    this.release(false);
    const sub = this.sub;
    if (!sub) return;
    // QUIT to a node that is gone would wait for a reconnect that never comes: bounded
    const quit = sub.quit().catch(() => undefined);
    await Promise.race([quit, new Promise((r) => setTimeout(r, 1000).unref())]);
    sub.disconnect();
  }

  /** Turns the index off for good (notifications unavailable); deletes walk. */
  off(reason: string): void {
    this.setState('off', reason);
    this.keys = new Map();
  }

  /**
   * The keys matching the lookups (each of this index's classes), or undefined when the index
   * cannot answer (untrusted, off, or the fence did not come back): then the caller walks.
   */
  async keysFor(lookups: readonly Lookup[]): Promise<string[] | undefined> {
    if (this.stateNow === 'rebuilding') await this.rebuilding;
    if (this.stateNow !== 'trusted') return undefined;
    const epoch = this.epoch;
    if (!(await this.fence())) return undefined;
    if (this.stateNow !== 'trusted' || this.epoch !== epoch) return undefined;
    const out = new Set<string>();
    for (const { cls, bucket, test } of lookups) {
      const c = this.keys.get(cls.id);
      if (!c) continue;
      const sources =
        bucket === undefined ? [...c.buckets.values(), c.aside] : [c.buckets.get(bucket), c.aside];
      for (const set of sources) {
        if (!set) continue;
        for (const k of set) if (test.test(k)) out.add(k);
      }
    }
    return [...out];
  }

  private channels(): string[] {
    const prefixes = [...new Set(this.opts.classes.map((c) => c.prefix))].sort();
    const kept = prefixes.filter((p, i) => !prefixes.slice(0, i).some((q) => p.startsWith(q)));
    return [
      ...kept.map((p) => `${this.channelPrefix}${escapeLiteral(p)}*`),
      // every instance's fences (one literal pattern, so an ACL can name it); ours are picked out
      `${this.channelPrefix}mcs:pidx:fence:*`,
    ];
  }

  private onNotification(channel: string, event: string): void {
    if (!channel.startsWith(this.channelPrefix)) return;
    const key = channel.slice(this.channelPrefix.length);
    if (key.startsWith('mcs:pidx:fence:')) {
      if (key === this.fenceKey && event === 'set') {
        this.fenceSeen += 1;
        this.release(true);
      }
      return;
    }
    if (this.stateNow === 'off' || this.stateNow === 'untrusted') return;
    if (GONE.has(event)) this.remove(key);
    else this.add(key);
  }

  private add(key: string): void {
    for (const { cls, bucket } of placeKey(this.opts.classes, key)) {
      let c = this.keys.get(cls.id);
      if (!c) {
        c = { buckets: new Map(), aside: new Set() };
        this.keys.set(cls.id, c);
      }
      if (bucket === undefined) c.aside.add(key);
      else {
        let b = c.buckets.get(bucket);
        if (!b) c.buckets.set(bucket, (b = new Set()));
        b.add(key);
      }
    }
  }

  private remove(key: string): void {
    for (const { cls, bucket } of placeKey(this.opts.classes, key)) {
      const c = this.keys.get(cls.id);
      if (!c) continue;
      if (bucket === undefined) c.aside.delete(key);
      else {
        const b = c.buckets.get(bucket);
        b?.delete(key);
        if (b?.size === 0) c.buckets.delete(bucket);
      }
    }
  }

  /** SET of the fence key, then the wait for its notification (bounded). */
  private async fence(): Promise<boolean> {
    const epoch = this.epoch;
    const n = ++this.fenceSent;
    const arrived = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        resolve(false);
      }, this.opts.fenceTimeoutMs);
      const done = (ok: boolean) => {
        clearTimeout(timer);
        resolve(ok);
      };
      this.waiters.push({ n, resolve: done });
    });
    let marked: unknown;
    let problem: string | undefined;
    try {
      [marked, problem] = await Promise.all([
        this.opts.client.eval(
          FENCE_SCRIPT,
          2,
          this.fenceKey,
          this.markKey,
          String(n),
          FENCE_TTL_MS,
          this.markToken,
          MARK_TTL_MS,
        ),
        this.feedProblem(),
      ]);
    } catch (err) {
      this.release(false);
      throw err;
    }
    const broken = problem ?? (marked === 1 ? undefined : DB_REPLACED);
    if (broken !== undefined) {
      if (this.epoch === epoch) {
        this.warnFeed(broken);
        this.untrust(broken);
        this.scheduleRebuild(this.retryMs);
      }
      this.release(false);
      return false;
    }
    const ok = await arrived;
    if (!ok && this.epoch === epoch) {
      this.untrust(`fence not notified within ${this.opts.fenceTimeoutMs} ms`);
      this.scheduleRebuild(this.retryMs);
    }
    return ok && this.epoch === epoch;
  }

  /** Resolves the waiters whose fence arrived (ok) or all of them (not ok). */
  private release(ok: boolean): void {
    const keep: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (!ok) w.resolve(false);
      else if (w.n <= this.fenceSeen) w.resolve(true);
      else keep.push(w);
    }
    this.waiters = keep;
  }

  /** A broken feed or swapped DB, warned about once until the index is trusted again. */
  private warnFeed(reason: string): void {
    if (this.feedWarned) return;
    this.feedWarned = true;
    this.opts.logger.warn(
      { db: this.opts.db, reason },
      `pattern index untrusted: ${reason}; pattern deletes walk until it is rebuilt`,
    );
  }

  private untrust(reason: string): void {
    if (this.stateNow === 'off' || this.closed) return;
    this.markToken = '';
    this.epoch += 1;
    this.fenceSent = 0;
    this.fenceSeen = 0;
    this.release(false);
    this.keys = new Map();
    if (this.stateNow !== 'untrusted') this.setState('untrusted', reason);
  }

  private scheduleRebuild(delayMs: number): void {
    if (this.closed || this.stateNow === 'off' || this.rebuilding || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (this.rebuilding || this.closed || this.stateNow === 'off') return;
      this.rebuilding = this.rebuild().finally(() => (this.rebuilding = undefined));
    }, delayMs);
    this.retry.unref();
  }

  /** Fence, full walk of the class prefixes, fence: trusted if no gap happened meanwhile. */
  private async rebuild(): Promise<void> {
    this.untrust('rebuild');
    const epoch = this.epoch;
    this.setState('rebuilding', 'walking the keyspace');
    const started = Date.now();
    const gone = () => this.epoch !== epoch || this.closed;
    try {
      const problem = await this.feedProblem();
      if (problem !== undefined) {
        this.warnFeed(problem);
        throw new Error(problem);
      }
      if (!(await this.fence()) || gone()) throw new Error('no notification before the walk');
      // the marker of this DB's contents: a SWAPDB or FLUSHDB from here on shows at a fence
      const token = `${this.instance}:${epoch}`;
      await this.opts.client.set(this.markKey, token, 'PX', MARK_TTL_MS);
      this.markToken = token;
      const prefix = commonPrefix(this.opts.classes.map((c) => c.prefix));
      await this.opts.budget.walk(
        this.opts.port,
        `${escapeLiteral(prefix)}*`,
        this.opts.scanCount,
        (keys) => {
          if (gone()) throw new Error('gap during the walk');
          for (const k of keys) this.add(k);
        },
      );
      if (!(await this.fence()) || gone()) throw new Error('no notification after the walk');
      this.retryMs = RETRY_MS;
      this.feedWarned = false;
      this.setState('trusted', `rebuilt in ${Date.now() - started} ms, ${this.size} key(s)`);
    } catch (err) {
      if (this.epoch === epoch) this.untrust(`rebuild failed: ${errorMessage(err)}`);
      else if (this.stateNow === 'rebuilding') this.setState('untrusted', errorMessage(err));
      if (!this.closed) {
        this.rebuilding = undefined;
        this.scheduleRebuild(this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
      }
    }
  }

  private setState(state: TrustState, reason: string): void {
    const from = this.stateNow;
    this.stateNow = state;
    const fields = { db: this.opts.db, from, to: state, reason };
    if (state === 'off') this.opts.logger.warn(fields, 'pattern index off: pattern deletes walk');
    else if (state === 'untrusted' && from === 'trusted')
      this.opts.logger.warn(fields, 'pattern index untrusted: pattern deletes walk until rebuilt');
    else if (this.retryMs > RETRY_MS) this.opts.logger.debug(fields, `pattern index ${state}`);
    else this.opts.logger.info(fields, `pattern index ${state}`);
    this.opts.onState?.(state, reason);
  }
}
