/** The consistency monitor's metrics (`mis_cache_sync_monitor_*`), in the registry it is given. */
import { Counter, Gauge, type Registry } from 'prom-client';
import { METRIC_PREFIX } from '../telemetry/metrics';

export class MonitorMetrics {
  readonly checks: Counter<'window' | 'family'>;
  readonly inconsistent: Counter<'window' | 'family'>;
  readonly unjudged: Counter<'window' | 'reason'>;
  readonly sampled: Counter;
  readonly dropped: Counter;
  readonly nines: Gauge<'window'>;
  readonly pending: Gauge;
  readonly repaired: Counter<'family'>;

  /** `pendingChecks` is read at each scrape. */
  constructor(registry: Registry, pendingChecks: () => number) {
    const registers = [registry];
    const p = `${METRIC_PREFIX}monitor_`;
    this.checks = new Counter({
      name: `${p}checks_total`,
      help: 'Keys of sampled events judged against the truth after a window, by window and family.',
      labelNames: ['window', 'family'],
      registers,
    });
    this.inconsistent = new Counter({
      name: `${p}inconsistencies_total`,
      help: 'Judged keys whose cached value differed from the truth (after one re-check), by window and family.',
      labelNames: ['window', 'family'],
      registers,
    });
    this.unjudged = new Counter({
      name: `${p}unjudged_total`,
      help: 'Keys not judged: no truth (delete-only target), unreadable value, changed while checked, or error.',
      labelNames: ['window', 'reason'],
      registers,
    });
    this.sampled = new Counter({
      name: `${p}sampled_events_total`,
      help: 'Change events sampled by the monitor.',
      registers,
    });
    this.dropped = new Counter({
      name: `${p}dropped_checks_total`,
      help: 'Checks dropped because too many were pending.',
      registers,
    });
    this.nines = new Gauge({
      name: `${p}consistency_nines`,
      help: 'Consistency per window since the monitor started, in nines: -log10(inconsistencies / checks); log10(checks) while none failed.',
      labelNames: ['window'],
      registers,
    });
    this.repaired = new Counter({
      name: `${p}repaired_total`,
      help: 'Persisting inconsistencies (wrong past a later window than their first failure) deleted by `monitor --repair`, by family.',
      labelNames: ['family'],
      registers,
    });
    this.pending = new Gauge({
      name: `${p}pending_checks`,
      help: 'Checks waiting for their window.',
      registers,
      collect: () => this.pending.set(pendingChecks()),
    });
  }
}
