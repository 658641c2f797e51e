/**
 * Continuous consistency (after Meta's Polaris): an observer with its own consumer group reads
 * the same change topics as the service, samples a share of the events, computes their keys with
 * the same rules, and after each window (commit time + 1 s, 60 s, 300 s by default) checks every
 * key against the truth with verify's `judgeKey`: absent, or equal to what the loader reads now
 * (`existsOnlyIf` for sessions and permissions). A key that fails is re-checked once; changed
 * meanwhile → not judged. A key still wrong at a later window than its first failure is
 * persisting (a bug or a stale set nothing fixes); one that is fine by the next window was
 * transient. Consistency per window is exported as nines: -log10(inconsistent / checks).
 *
 * Keys of delete-only targets without a truth (statistics) and pattern deletes are not judged,
 * nor is a key's check once a newer sampled event touched the key (that event's checks take
 * over). With a sample below 1, a newer event that was not sampled can make a check fail that
 * the newer event's own window would have excused: the monitor may over-report, never hide.
 */
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Config } from '../config/config';
import type { Family } from '../core/families';
import type { RawRecord, RecordPlace } from '../envelope/types';
import { errorMessage } from '../core/errors';
import { batchContext, planBatch, type BatchContext } from '../intake/batch-plan';
import { topicFor } from '../intake/topics';
import type { RowLoader } from '../mysql/loader';
import type { RedisPort } from '../redis/port';
import { KeyMatcher } from '../rules/match';
import type { RuleSet } from '../rules/registry';
import type { Logger } from '../telemetry/logger';
import { METRIC_PREFIX } from '../telemetry/metrics';
import { judgeKey } from './verify';

export interface MonitorDeps {
  readonly kafka: Kafka;
  readonly config: Config;
  readonly rules: RuleSet;
  readonly ports: Readonly<Record<Family, RedisPort>>;
  readonly loader: RowLoader;
  readonly logger: Logger;
  /** Where the monitor's metrics are registered (the service's registry when inside it). */
  readonly registry: Registry;
  /** Sampling decision; Math.random by default (tests may sample everything). */
  readonly random?: () => number;
}

/** One key of one sampled event, followed through the windows. */
interface Tracked {
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

interface Due {
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

export class ConsistencyMonitor {
  private readonly consumer: Consumer;
  private readonly ctx: BatchContext;
  private readonly matcher: KeyMatcher;
  private readonly log: Logger;
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
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  private readonly mChecks: Counter<'window' | 'family'>;
  private readonly mInconsistent: Counter<'window' | 'family'>;
  private readonly mUnjudged: Counter<'window' | 'reason'>;
  private readonly mSampled: Counter;
  private readonly mDropped: Counter;
  private readonly mNines: Gauge<'window'>;
  private readonly mPending: Gauge;

  constructor(private readonly deps: MonitorDeps) {
    const { config } = deps;
    this.log = deps.logger.child({ component: 'monitor' });
    this.consumer = deps.kafka.consumer({
      groupId: config.monitor.groupId,
      sessionTimeout: config.kafka.sessionTimeoutMs,
      heartbeatInterval: Math.floor(config.kafka.sessionTimeoutMs / 10),
    });
    this.ctx = batchContext(config, deps.rules);
    this.matcher = new KeyMatcher(deps.rules);
    this.labels = config.monitor.windowsMs.map(windowLabel);
    this.queues = this.labels.map(() => []);
    this.tallies = this.labels.map((window) => ({
      window,
      checks: 0,
      inconsistent: 0,
      unjudged: 0,
    }));
    const registers = [deps.registry];
    const p = `${METRIC_PREFIX}monitor_`;
    this.mChecks = new Counter({
      name: `${p}checks_total`,
      help: 'Keys of sampled events judged against the truth after a window, by window and family.',
      labelNames: ['window', 'family'],
      registers,
    });
    this.mInconsistent = new Counter({
      name: `${p}inconsistencies_total`,
      help: 'Judged keys whose cached value differed from the truth (after one re-check), by window and family.',
      labelNames: ['window', 'family'],
      registers,
    });
    this.mUnjudged = new Counter({
      name: `${p}unjudged_total`,
      help: 'Keys not judged: no truth (delete-only target), unreadable value, changed while checked, or error.',
      labelNames: ['window', 'reason'],
      registers,
    });
    this.mSampled = new Counter({
      name: `${p}sampled_events_total`,
      help: 'Change events sampled by the monitor.',
      registers,
    });
    this.mDropped = new Counter({
      name: `${p}dropped_checks_total`,
      help: 'Checks dropped because too many were pending.',
      registers,
    });
    this.mNines = new Gauge({
      name: `${p}consistency_nines`,
      help: 'Consistency per window since the monitor started, in nines: -log10(inconsistencies / checks); log10(checks) while none failed.',
      labelNames: ['window'],
      registers,
    });
    this.mPending = new Gauge({
      name: `${p}pending_checks`,
      help: 'Checks waiting for their window.',
      registers,
      collect: () => this.mPending.set(this.pendingCount),
    });
  }

  get topics(): string[] {
    const { topicPrefix, database } = this.deps.config.kafka;
    return this.deps.rules.tables.map((t) => topicFor(topicPrefix, database, t));
  }

  /** Joins the monitor's group (new events only) and starts checking; resolves once joined. */
  async start(): Promise<void> {
    const joined = new Promise<void>((resolve) => {
      const off = this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
        off();
        resolve();
      });
    });
    this.running = true;
    this.loop = this.checkLoop();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topics, fromBeginning: false });
    await this.consumer.run({
      autoCommit: true,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    await joined;
    this.log.info(
      {
        groupId: this.deps.config.monitor.groupId,
        sample: this.deps.config.monitor.sample,
        windows: this.labels,
      },
      'consistency monitor consuming',
    );
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.consumer.disconnect();
    await this.loop;
  }

  report(): MonitorReport {
    return {
      sampledEvents: this.sampled,
      windows: this.tallies.map((t) => ({ ...t })),
      inconsistencies: [...this.kept],
      pending: this.pendingCount,
    };
  }

  private async handleBatch({ batch, heartbeat }: EachBatchPayload): Promise<void> {
    const random = this.deps.random ?? Math.random;
    const now = Date.now();
    for (const m of batch.messages) {
      if (random() >= this.deps.config.monitor.sample) continue;
      const record: RawRecord = {
        topic: batch.topic,
        partition: batch.partition,
        offset: m.offset,
        key: m.key,
        value: m.value,
        timestamp: m.timestamp,
      };
      const plan = planBatch([record], this.ctx);
      const handled = plan.handled[0];
      if (!handled) continue; // tombstone or rejected: the service dead-letters it
      this.sampled += 1;
      this.mSampled.inc();
      const eventMs = handled.sourceTsMs ?? handled.kafkaTsMs ?? now;
      const seq = ++this.seq;
      for (const op of plan.ops) {
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
            this.mDropped.inc();
            return;
          }
          this.queues[i]?.push({ at: eventMs + w, tracked });
          this.pendingCount += 1;
          entry.pending += 1;
        });
        if (entry.pending > 0) this.latest.set(id, entry);
      }
    }
    await heartbeat();
  }

  private async checkLoop(): Promise<void> {
    while (this.running) {
      const next = this.takeDue(Date.now());
      if (!next) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 50);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        continue;
      }
      try {
        await this.check(next.window, next.due.tracked);
      } catch (err) {
        this.unjudged(next.window, 'error');
        this.log.warn({ key: next.due.tracked.key, error: errorMessage(err) }, 'check failed');
      }
    }
  }

  private takeDue(now: number): { window: number; due: Due } | undefined {
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

  private unjudged(window: number, reason: string): void {
    const t = this.tallies[window] as WindowTally;
    t.unjudged += 1;
    this.mUnjudged.inc({ window: t.window, reason });
  }

  private async check(window: number, tracked: Tracked): Promise<void> {
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
    const judge = () => judgeKey(this.deps, this.matcher, tracked.family, tracked.key);
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
        this.mInconsistent.inc(labels);
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
        this.log.warn(
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
          },
          persisting
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
    this.mChecks.inc(labels);
    const n = nines(t.checks, t.inconsistent);
    if (n !== undefined) this.mNines.set({ window: t.window }, n);
  }
}
