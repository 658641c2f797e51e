/**
 * The consistency monitor's windows: each key of a sampled event waits in one FIFO per window
 * (commit time + the window), is judged when due (verify's `judgeKey`, re-checked once when
 * stale), and is tallied per window; a key wrong again at a later window than its first failure
 * is persisting. See `monitor.ts` for what is judged and what is not.
 */
import type { Config } from '../config/config';
import type { Family } from '../core/families';
import type { RecordPlace } from '../envelope/types';
import { errorMessage } from '../core/errors';
import type { HandledEvent } from '../intake/batch-plan';
import type { KeyOp } from '../rules/ops';
import type { Logger } from '../telemetry/logger';
import type { MonitorMetrics } from './monitor-metrics';
import type { KeyVerdict } from './verify';

/** One key of one sampled event, followed through the windows. */
export interface Tracked {
  readonly key: string;
  readonly family: Family;
  readonly place: RecordPlace;
  readonly table: string;
  readonly eventMs: number;
  /** Order in which the monitor saw the event. */
  readonly seq: number;
  /** Windows (index) at which the key was found inconsistent. */
  readonly failed: number[];
}

export interface Due {
  readonly at: number;
  readonly tracked: Tracked;
}

export interface Inconsistency {
  readonly key: string;
  readonly family: Family;
  readonly window: string;
  readonly place: RecordPlace;
  readonly table: string;
  readonly why: string;
  /** Also inconsistent at an earlier window. */
  readonly persisting: boolean;
}

export interface WindowTally {
  readonly window: string;
  checks: number;
  inconsistent: number;
  /** Not judged: no truth for the key, unreadable, or changed while checked. */
  unjudged: number;
  /** Persisting inconsistencies deleted (`--repair`). */
  repaired: number;
}

export interface MonitorReport {
  readonly sampledEvents: number;
  readonly windows: readonly WindowTally[];
  readonly inconsistencies: readonly Inconsistency[];
  /** Checks still waiting for their window. */
  readonly pending: number;
}

/** Most checks waiting at once; more are dropped (counted), so memory stays bounded. */
const MAX_PENDING = 200_000;
/** Most inconsistencies kept for `report()` (all are logged and counted). */
const MAX_KEPT = 1000;

export function windowLabel(ms: number): string {
  if (ms % 60_000 === 0 && ms >= 600_000) return `${ms / 60_000}m`;
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** -log10 of the inconsistent share; with none, log10(checks) (the most the checks can show). */
export function nines(checks: number, inconsistent: number): number | undefined {
  if (checks <= 0) return undefined;
  return inconsistent === 0 ? Math.log10(checks) : -Math.log10(inconsistent / checks);
}

export interface WindowsDeps {
  readonly config: Config;
  readonly metrics: MonitorMetrics;
  readonly log: Logger;
  /** The key's verdict against the truth now. */
  readonly judge: (family: Family, key: string) => Promise<KeyVerdict>;
  /**
   * `monitor --repair`: deletes a persisting inconsistency (wrong at a later window than its
   * first failure: nothing in flight will fix it); true when it was deleted. Absent: report only.
   */
  readonly repair?: (family: Family, key: string) => Promise<boolean>;
}

export class MonitorWindows {
  private readonly labels: string[];
  /** One FIFO per window: events arrive roughly in commit order, so each queue is sorted. */
  private readonly queues: Due[][];
  private readonly tallies: WindowTally[];
  private readonly kept: Inconsistency[] = [];
  /** Per key with pending checks: the newest sampled event touching it, and how many checks wait. */
  private readonly latest = new Map<string, { seq: number; pending: number }>();
  private seq = 0;
  private sampled = 0;
  private pendingCount = 0;

  constructor(private readonly deps: WindowsDeps) {
    this.labels = deps.config.monitor.windowsMs.map(windowLabel);
    this.queues = this.labels.map(() => []);
    this.tallies = this.labels.map((window) => ({
      window,
      checks: 0,
      inconsistent: 0,
      unjudged: 0,
      repaired: 0,
    }));
  }

  /** The windows as written (`1s`, `60s`, …). */
  get windows(): readonly string[] {
    return this.labels;
  }

  /** Checks waiting for their window. */
  get pending(): number {
    return this.pendingCount;
  }

  report(): MonitorReport {
    return {
      sampledEvents: this.sampled,
      windows: this.tallies.map((t) => ({ ...t })),
      inconsistencies: [...this.kept],
      pending: this.pendingCount,
    };
  }

  /** A sampled event: each key it touches (pattern deletes aside) waits for every window. */
  track(handled: HandledEvent, ops: readonly KeyOp[], now: number): void {
    const { metrics } = this.deps;
    this.sampled += 1;
    metrics.sampled.inc();
    const eventMs = handled.sourceTsMs ?? handled.kafkaTsMs ?? now;
    const seq = ++this.seq;
    for (const op of ops) {
      if (op.action === 'pattern-delete') continue;
      const tracked: Tracked = {
        key: op.key,
        family: op.family,
        place: handled.place,
        table: handled.table,
        eventMs,
        seq,
        failed: [],
      };
      const id = `${op.family}\u0000${op.key}`;
      const entry = this.latest.get(id) ?? { seq, pending: 0 };
      entry.seq = seq;
      this.deps.config.monitor.windowsMs.forEach((w, i) => {
        if (this.pendingCount >= MAX_PENDING) {
          metrics.dropped.inc();
          return;
        }
        this.queues[i]?.push({ at: eventMs + w, tracked });
        this.pendingCount += 1;
        entry.pending += 1;
      });
      if (entry.pending > 0) this.latest.set(id, entry);
    }
  }

  /** The first check due by `now`, taken off its queue. */
  takeDue(now: number): { window: number; due: Due } | undefined {
    for (let i = 0; i < this.queues.length; i++) {
      const q = this.queues[i] as Due[];
      const head = q[0];
      if (head && head.at <= now) {
        q.shift();
        this.pendingCount -= 1;
        return { window: i, due: head };
      }
    }
    return undefined;
  }

  /** A check that threw: not judged. */
  failed(window: number, tracked: Tracked, err: unknown): void {
    this.unjudged(window, 'error');
    this.deps.log.warn({ key: tracked.key, error: errorMessage(err) }, 'check failed');
  }

  private unjudged(window: number, reason: string): void {
    const t = this.tallies[window] as WindowTally;
    t.unjudged += 1;
    this.deps.metrics.unjudged.inc({ window: t.window, reason });
  }

  async check(window: number, tracked: Tracked): Promise<void> {
    const id = `${tracked.family}\u0000${tracked.key}`;
    const entry = this.latest.get(id);
    if (entry) {
      entry.pending -= 1;
      if (entry.pending <= 0) this.latest.delete(id);
    }
    // A newer sampled event touched the key: its own checks judge it from now on.
    if (entry && entry.seq > tracked.seq) {
      this.unjudged(window, 'superseded');
      return;
    }
    const judge = () => this.deps.judge(tracked.family, tracked.key);
    let verdict = await judge();
    if (verdict.kind === 'stale') {
      // Re-checked once: a value rewritten (or a truth changed) meanwhile is not judged.
      const first = verdict;
      const again = await judge();
      verdict =
        again.kind === 'stale' && again.cached === first.cached ? again : { kind: 'changed' };
    }
    const t = this.tallies[window] as WindowTally;
    const labels = { window: t.window, family: tracked.family };
    switch (verdict.kind) {
      case 'absent':
      case 'consistent':
        break;
      case 'stale': {
        const persisting = tracked.failed.length > 0;
        tracked.failed.push(window);
        t.inconsistent += 1;
        this.deps.metrics.inconsistent.inc(labels);
        const found: Inconsistency = {
          key: tracked.key,
          family: tracked.family,
          window: t.window,
          place: tracked.place,
          table: tracked.table,
          why: verdict.why,
          persisting,
        };
        if (this.kept.length < MAX_KEPT) this.kept.push(found);
        const repaired = persisting && (await this.deps.repair?.(tracked.family, tracked.key));
        if (repaired) {
          t.repaired += 1;
          this.deps.metrics.repaired.inc({ family: tracked.family });
        }
        this.deps.log.warn(
          {
            key: tracked.key,
            family: tracked.family,
            db: this.deps.config.redis.db[tracked.family],
            window: t.window,
            persisting,
            topic: tracked.place.topic,
            partition: tracked.place.partition,
            offset: tracked.place.offset,
            table: tracked.table,
            why: verdict.why,
            ...(repaired ? { repaired: true } : {}),
          },
          repaired
            ? 'inconsistent key persisted after the event that should have cleared it: deleted'
            : persisting
              ? 'inconsistent key persists after the event that should have cleared it'
              : 'inconsistent key after the event that should have cleared it',
        );
        break;
      }
      default:
        this.unjudged(window, verdict.kind);
        return;
    }
    t.checks += 1;
    this.deps.metrics.checks.inc(labels);
    const n = nines(t.checks, t.inconsistent);
    if (n !== undefined) this.deps.metrics.nines.set({ window: t.window }, n);
  }
}
