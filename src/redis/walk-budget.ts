/**
 * The budget of SCAN walks (the fallback of a pattern delete, the rebuild of the pattern index,
 * the daily job): every SCAN step of every walk of the process goes through one budget, one
 * step at a time, and after each step the budget pauses so long that the steps take at most
 * `share` of the wall time (`MCS_WALK_SHARE_PERCENT`). A step is timed from the client (round
 * trip) and, where the node answers `INFO commandstats`, by the growth of Redis's own SCAN time
 * (`cmdstat_scan` usec, read after each step); the pause follows Redis's time when known, the
 * round trip otherwise, so Redis's own time for the walks stays under the share
 * (`bench/keyspace.ts` reads it back from the same counters).
 *
 * Fallback deletes are coalesced per keyspace: patterns asked for while a walk runs wait for
 * the next walk, which serves all of them at once (a walk visits every key whatever it looks
 * for).
 */
import { performance } from 'node:perf_hooks';
import { globToRegExp, literalPrefix, unlinkAll, type Chunking } from './keyspace';
import type { RedisPort } from './port';

export class WalkBudget {
  private chain: Promise<void> = Promise.resolve();
  /** Milliseconds spent inside SCAN steps, and their count (for metrics and the bench). */
  busyMs = 0;
  /** Of which Redis's own SCAN time, where the node reported it (`INFO commandstats`). */
  redisMs = 0;
  steps = 0;

  constructor(private readonly share: number) {}

  /** Runs one step when the budget allows, then holds the budget for its pause. */
  step<T>(fn: () => Promise<T>): Promise<T> {
    return this.measured(async () => ({ value: await fn(), redisMs: undefined }));
  }

  /**
   * As `step`, with the time Redis itself spent on the step when the step knows it; the pause
   * follows that time (else the round trip, an upper bound of it).
   */
  async measured<T>(fn: () => Promise<{ value: T; redisMs: number | undefined }>): Promise<T> {
    const prev = this.chain;
    let release = () => undefined as void;
    this.chain = new Promise<void>((r) => (release = r));
    await prev;
    const started = performance.now();
    let cost: number | undefined;
    let failed = true;
    try {
      const { value, redisMs } = await fn();
      cost = redisMs;
      failed = false;
      return value;
    } finally {
      const took = performance.now() - started;
      this.busyMs += took;
      if (cost !== undefined) this.redisMs += cost;
      this.steps += 1;
      const spent = cost ?? took;
      // A failed step (a node down: refused, timed out) cost no node anything; pausing for its
      // wait would hold every other walk (the rebuild of a promoted replica's index) behind it.
      const pause = this.share >= 1 || failed ? 0 : (spent * (1 - this.share)) / this.share;
      if (pause < 1) release();
      else setTimeout(release, pause).unref();
    }
  }

  /** Every key of the port's nodes matching `match` (SCAN MATCH), step by step. */
  async walk(
    port: RedisPort,
    match: string,
    count: number,
    onKeys: (keys: string[]) => Promise<void> | void,
  ): Promise<void> {
    for (const node of port.scanNodes()) {
      let last = await node.scanMicros?.().catch(() => undefined);
      let cursor = '0';
      do {
        const [next, found] = await this.measured(async () => {
          const value = await node.scan(cursor, match, count);
          let redisMs: number | undefined;
          if (last !== undefined) {
            const now = await node.scanMicros?.().catch(() => undefined);
            // every client's SCANs on the node count against the budget: conservative
            redisMs = now !== undefined && now >= last ? (now - last) / 1000 : undefined;
            last = now;
          }
          return { value, redisMs };
        });
        cursor = next;
        if (found.length > 0) await onKeys(found);
      } while (cursor !== '0');
    }
  }
}

interface Pending {
  readonly patterns: Set<string>;
  readonly done: Promise<number>;
}

/** Pattern deletes by walking, coalesced per keyspace and paced by the budget. */
export class CoalescedWalks {
  private readonly next = new Map<RedisPort, { pending: Pending; start: () => void }>();
  private readonly running = new Map<RedisPort, Promise<unknown>>();

  constructor(
    private readonly budget: WalkBudget,
    private readonly chunking: Chunking,
  ) {}

  /** Deletes the keys matching the patterns; resolves to the number of keys the walk removed. */
  deleteMatching(port: RedisPort, patterns: readonly string[]): Promise<number> {
    if (patterns.length === 0) return Promise.resolve(0);
    let slot = this.next.get(port);
    if (!slot) {
      const set = new Set<string>();
      let start = () => undefined as void;
      const gate = new Promise<void>((r) => (start = r));
      const done = gate.then(() => this.walkOnce(port, [...set]));
      slot = { pending: { patterns: set, done }, start };
      this.next.set(port, slot);
      const running = this.running.get(port) ?? Promise.resolve();
      const s = slot;
      void running.then(
        () => this.launch(port, s),
        () => this.launch(port, s),
      );
    }
    for (const p of patterns) slot.pending.patterns.add(p);
    return slot.pending.done;
  }

  private launch(port: RedisPort, slot: { pending: Pending; start: () => void }): void {
    this.next.delete(port);
    this.running.set(
      port,
      slot.pending.done.catch(() => undefined),
    );
    slot.start();
  }

  private async walkOnce(port: RedisPort, patterns: string[]): Promise<number> {
    const tests = patterns.map(globToRegExp);
    const prefix = commonPrefix(patterns.map(literalPrefix));
    const match = patterns.length === 1 ? (patterns[0] as string) : `${escapeLiteral(prefix)}*`;
    let removed = 0;
    await this.budget.walk(port, match, this.chunking.scanCount, async (keys) => {
      const doomed = keys.filter((k) => tests.some((t) => t.test(k)));
      if (doomed.length > 0) removed += await unlinkAll(port, doomed, this.chunking);
    });
    return removed;
  }
}

export function commonPrefix(texts: readonly string[]): string {
  let prefix = texts[0] ?? '';
  for (const t of texts) while (!t.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}

export function escapeLiteral(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
