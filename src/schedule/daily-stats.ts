/**
 * Time-based invalidation: at each slot of a cron schedule (00:00 business time by default),
 * yesterday's daily statistics (`stats:daily_*:{yyyymmdd}`) are deleted. Several instances run
 * a slot once: a lock guards the run and a marker records the last slot done. At start, slots
 * missed while no instance ran (at most a week back) are caught up.
 */
import { randomUUID } from 'node:crypto';
import { Cron } from 'croner';
import { errorMessage } from '../core/errors';
import { deleteMatching, type StepBudget } from '../redis/keyspace';
import type { RedisPort } from '../redis/port';
import { RELEASE_LOCK } from '../redis/scripts';
import { dayOfInstant, previousDay, yyyymmdd } from '../core/dates';
import type { Logger } from '../telemetry/logger';

export const DAILY_STATS_LOCK = 'lock:batch_process:daily_stats';
export const DAILY_STATS_MARKER = 'mcs:schedule:daily_stats:last';
const CATCH_UP_LIMIT_MS = 7 * 86_400_000;
const RETRY_MS = 60_000;
const BUSY_RETRY_MS = 5_000;

/** SET marker to ARGV[1] only if it moves forward. KEYS[1] marker; ARGV[1] ISO slot; ARGV[2] TTL. */
const RAISE_MARKER = `
local current = redis.call('GET', KEYS[1])
if current and current >= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
return 1`;

export interface DailyStatsOptions {
  readonly cron: string;
  readonly zone: string;
  /** SCAN glob with `{date}` for yesterday's YYYYMMDD. */
  readonly pattern: string;
  readonly lockTtl: number;
  readonly scanCount: number;
  readonly unlinkBatch: number;
  /** Paces the walk (the service's walk budget); absent: unpaced. */
  readonly budget?: StepBudget;
  /** Lock and marker keys; the defaults are shared by every instance of a deployment. */
  readonly lockKey?: string;
  readonly markerKey?: string;
  /** First retry of a slot whose lock is busy (doubling up to a minute). */
  readonly busyRetryMs?: number;
  /** Told about busy slots (metrics). */
  readonly observer?: DailyStatsObserver;
}

export interface DailyStatsObserver {
  /** A slot found its lock busy and will be tried again. */
  busyRetry(): void;
  /** Slots waiting on a busy lock: 1 or 0. */
  pending(n: number): void;
}

export interface SlotResult {
  readonly slot: string;
  readonly date: string;
  /** Keys removed, or null when another instance ran (or had run) the slot. */
  readonly deleted: number | null;
  /** The lock was held by someone else: not done, tried again. */
  readonly busy?: true;
}

export class DailyStatsJob {
  private cron: Cron | undefined;
  private retry: NodeJS.Timeout | undefined;
  private readonly lockKey: string;
  private readonly markerKey: string;
  private busyDelay: number;
  /** When the current busy streak began (ms), 0 when none. */
  private busySince = 0;
  private stopped = false;

  constructor(
    private readonly port: RedisPort,
    private readonly options: DailyStatsOptions,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.lockKey = options.lockKey ?? DAILY_STATS_LOCK;
    this.markerKey = options.markerKey ?? DAILY_STATS_MARKER;
    this.busyDelay = options.busyRetryMs ?? BUSY_RETRY_MS;
  }

  /** Catches up missed slots, then runs on schedule. */
  async start(): Promise<void> {
    await this.runDue();
    this.cron = new Cron(
      this.options.cron,
      { timezone: this.options.zone },
      () => void this.runDue(),
    );
  }

  stop(): void {
    this.stopped = true;
    this.cron?.stop();
    if (this.retry) clearTimeout(this.retry);
  }

  /** Runs every slot due since the last one done (or the latest one, on first start). */
  async runDue(): Promise<SlotResult[]> {
    const results: SlotResult[] = [];
    try {
      for (const slot of await this.dueSlots()) {
        const result = await this.runSlot(slot);
        results.push(result);
        // later slots wait: raising the marker past a busy slot would skip its day for good
        if (result.busy) break;
      }
    } catch (err) {
      this.logger.warn(
        { error: errorMessage(err), retryInMs: RETRY_MS },
        'daily statistics drop failed; will retry',
      );
      this.later(RETRY_MS);
      return results;
    }
    const busy = results.find((r) => r.busy);
    if (busy) this.retryBusy(busy);
    else if (this.busySince !== 0) {
      this.busySince = 0;
      this.busyDelay = this.options.busyRetryMs ?? BUSY_RETRY_MS;
      this.options.observer?.pending(0);
    }
    return results;
  }

  private retryBusy(result: SlotResult): void {
    const now = Date.now();
    if (this.busySince === 0) this.busySince = now;
    const heldMs = now - this.busySince;
    const fields = { slot: result.slot, date: result.date, retryInMs: this.busyDelay, heldMs };
    if (heldMs > this.options.lockTtl * 1000) {
      this.logger.warn(
        { ...fields, lock: this.lockKey, lockTtlSeconds: this.options.lockTtl },
        'daily statistics drop: lock busy for longer than its TTL (renewed by its holder, or set without expiry?); still trying',
      );
    } else {
      this.logger.info(
        fields,
        'daily statistics drop: lock busy (another instance or the batch); trying again',
      );
    }
    this.options.observer?.busyRetry();
    this.options.observer?.pending(1);
    this.later(this.busyDelay);
    this.busyDelay = Math.min(this.busyDelay * 2, RETRY_MS);
  }

  private later(ms: number): void {
    if (this.stopped) return;
    if (this.retry) clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.runDue(), ms);
    this.retry.unref();
  }

  async dueSlots(): Promise<Date[]> {
    const now = this.now();
    const marker = await this.port.get(this.markerKey);
    const floor = new Date(now.getTime() - CATCH_UP_LIMIT_MS);
    const from = marker && new Date(marker) > floor ? new Date(marker) : floor;
    const pattern = new Cron(this.options.cron, { timezone: this.options.zone, paused: true });
    const slots: Date[] = [];
    for (let next = pattern.nextRun(from); next && next <= now; next = pattern.nextRun(next))
      slots.push(next);
    pattern.stop();
    // Without a marker only the latest slot matters: older days were never cached as "today".
    return marker ? slots : slots.slice(-1);
  }

  async runSlot(slot: Date): Promise<SlotResult> {
    const date = yyyymmdd(previousDay(dayOfInstant(slot.getTime(), this.options.zone)));
    const iso = slot.toISOString();
    const token = randomUUID();
    if (!(await this.port.setNx(this.lockKey, token, this.options.lockTtl))) {
      return { slot: iso, date, deleted: null, busy: true };
    }
    try {
      const marker = await this.port.get(this.markerKey);
      if (marker && marker >= iso) return { slot: iso, date, deleted: null };
      const deleted = await deleteMatching(
        this.port,
        [this.options.pattern.replace('{date}', date)],
        this.options,
        this.options.budget,
      );
      await this.port.eval(RAISE_MARKER, [this.markerKey], [iso, CATCH_UP_LIMIT_MS / 1000]);
      this.logger.info(
        { slot: iso, date, deleted },
        'dropped daily statistics of the previous day',
      );
      return { slot: iso, date, deleted };
    } finally {
      await this.port.eval(RELEASE_LOCK, [this.lockKey], [token]);
    }
  }
}
