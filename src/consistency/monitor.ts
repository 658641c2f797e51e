/**
 * Continuous consistency (after Meta's Polaris): an observer with its own consumer group reads
 * the same change topics as the service, samples a share of the events, computes their keys with
 * the same rules, and after each window (commit time + 1 s, 60 s, 300 s by default) checks every
 * key against the truth with verify's `judgeKey`: absent, or equal to what the loader reads now
 * (`existsOnlyIf` for sessions and permissions). A key that fails is re-checked once; changed
 * meanwhile → not judged. A key still wrong at a later window than its first failure is
 * persisting (a bug or a stale set nothing fixes); one that is fine by the next window was
 * transient. Consistency per window is exported as nines: -log10(inconsistent / checks).
 * With `--repair` (MCS_MONITOR_REPAIR) a persisting key is deleted, still stale and unchanged,
 * and counted (`mis_cache_sync_monitor_repaired_total`); off by default.
 *
 * Keys of delete-only targets without a truth (statistics) and pattern deletes are not judged,
 * nor is a key's check once a newer sampled event touched the key (that event's checks take
 * over). With a sample below 1, a newer event that was not sampled can make a check fail that
 * the newer event's own window would have excused: the monitor may over-report, never hide.
 *
 * Here: the monitor's own group on the change topics (`TopicFollower`, the operator tools' reader
 * on the intake's Kafka set-up), the sampling, and the loop that runs the checks when due; the
 * windows and the judging are in `monitor-windows.ts`, the metrics in `monitor-metrics.ts`.
 */
import type { EachBatchPayload, Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { Config } from '../config/config';
import type { Family } from '../core/families';
import type { RawRecord } from '../envelope/types';
import { batchContext, planBatch, type BatchContext } from '../intake/batch-plan';
import { TopicFollower } from '../intake/topic-reader';
import { topicFor } from '../intake/topics';
import type { RowLoader } from '../mysql/loader';
import type { RedisPort } from '../redis/port';
import { KeyMatcher } from '../rules/match';
import type { RuleSet } from '../rules/registry';
import type { Logger } from '../telemetry/logger';
import { MonitorMetrics } from './monitor-metrics';
import { MonitorWindows, type MonitorReport } from './monitor-windows';
import { judgeKey } from './verify';

export {
  nines,
  windowLabel,
  type Inconsistency,
  type MonitorReport,
  type WindowTally,
} from './monitor-windows';

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
  /** Delete persisting inconsistencies (`monitor --repair`, `MCS_MONITOR_REPAIR`); default off. */
  readonly repair?: boolean;
}

export class ConsistencyMonitor {
  private readonly follower: TopicFollower;
  private readonly ctx: BatchContext;
  private readonly log: Logger;
  private readonly windows: MonitorWindows;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly deps: MonitorDeps) {
    const { config } = deps;
    this.log = deps.logger.child({ component: 'monitor' });
    this.follower = new TopicFollower({
      kafka: deps.kafka,
      groupId: config.monitor.groupId,
      sessionTimeoutMs: config.kafka.sessionTimeoutMs,
      heartbeatIntervalMs: Math.floor(config.kafka.sessionTimeoutMs / 10),
    });
    this.ctx = batchContext(config, deps.rules);
    const matcher = new KeyMatcher(deps.rules);
    const metrics = new MonitorMetrics(deps.registry, () => this.windows.pending);
    this.windows = new MonitorWindows({
      config,
      metrics,
      log: this.log,
      judge: (family, key) => judgeKey({ deps, matcher, family, key }),
      ...((deps.repair ?? config.monitor.repair)
        ? { repair: (family: Family, key: string) => this.repairKey(family, key, matcher) }
        : {}),
    });
  }

  get topics(): string[] {
    const { topicPrefix, database } = this.deps.config.kafka;
    return this.deps.rules.tables.map((t) => topicFor(topicPrefix, database, t));
  }

  /** Joins the monitor's group (new events only) and starts checking; resolves once joined. */
  async start(): Promise<void> {
    this.running = true;
    this.loop = this.checkLoop();
    await this.follower.start({
      topics: this.topics,
      fromBeginning: false,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    this.log.info(
      {
        groupId: this.deps.config.monitor.groupId,
        sample: this.deps.config.monitor.sample,
        windows: this.windows.windows,
      },
      'consistency monitor consuming',
    );
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.follower.stop();
    await this.loop;
  }

  report(): MonitorReport {
    return this.windows.report();
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
      this.windows.track(handled, plan.ops, now);
    }
    await heartbeat();
  }

  /**
   * Deletes the key if it is still stale by the judge right now, and still holds the value
   * judged (a value rewritten meanwhile is left alone; one written between that read and the
   * UNLINK is lost to a cache miss, which cache-aside absorbs).
   */
  private async repairKey(family: Family, key: string, matcher: KeyMatcher): Promise<boolean> {
    const port = this.deps.ports[family];
    const verdict = await judgeKey({ deps: this.deps, matcher, family, key });
    if (verdict.kind !== 'stale') return false;
    const now = await port.getBuffer(key);
    if (!now || now.toString('utf8') !== verdict.cached) return false;
    return (await port.unlink([key])) > 0;
  }

  private async checkLoop(): Promise<void> {
    while (this.running) {
      const next = this.windows.takeDue(Date.now());
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
        await this.windows.check(next.window, next.due.tracked);
      } catch (err) {
        this.windows.failed(next.window, next.due.tracked, err);
      }
    }
  }
}
