/**
 * Gauges of what the service itself relies on, each set by the part that knows: whether it skips
 * every event it reads (the watched databases and the topics disagree), whether a pattern index
 * is trusted, and whether the daily drop waits on a busy lock. Registered on the service's
 * registry by metrics.ts; alert rules in dashboards/alerts.yml.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export class StateMetrics {
  private readonly skippingAll: Gauge;
  private readonly indexTrusted: Gauge<'server' | 'db'>;
  private readonly dailyPending: Gauge;
  private readonly dailyBusy: Counter;

  constructor(registry: Registry, prefix: string) {
    const registers = [registry];
    this.skippingAll = new Gauge({
      name: `${prefix}skipping_all`,
      help: '1 while every change event read lately was skipped as of a database not watched (MCS_DATABASES), none handled.',
      registers,
    });
    this.skippingAll.set(0);
    this.indexTrusted = new Gauge({
      name: `${prefix}pattern_index_trusted`,
      help: '1 while the pattern index of a Redis server and DB answers pattern deletes; 0 while they walk (rebuilding, a gap, notify-keyspace-events incomplete).',
      labelNames: ['server', 'db'],
      registers,
    });
    this.dailyPending = new Gauge({
      name: `${prefix}daily_stats_pending`,
      help: "1 while the daily drop of yesterday's statistics waits on its busy lock.",
      registers,
    });
    this.dailyPending.set(0);
    this.dailyBusy = new Counter({
      name: `${prefix}daily_stats_busy_retries_total`,
      help: 'Times the daily drop found its lock busy and was tried again.',
      registers,
    });
  }

  setSkippingAll(on: boolean): void {
    this.skippingAll.set(on ? 1 : 0);
  }

  setPatternIndexTrusted(server: string, db: number, trusted: boolean): void {
    this.indexTrusted.set({ server, db: String(db) }, trusted ? 1 : 0);
  }

  dailyStatsBusyRetry(): void {
    this.dailyBusy.inc();
  }

  dailyStatsPending(n: number): void {
    this.dailyPending.set(n);
  }
}
