/**
 * `mis_cache_sync_source_freshness_seconds{connector}`: the age of the newest source moment the
 * service knows it has applied, every change before it included (src/intake/heartbeats.ts). Read when
 * Prometheus scrapes; lag stays 0 when a connector stops, this keeps growing.
 */
import { Gauge, type Registry } from 'prom-client';
import { METRIC_PREFIX } from './metrics';

/** Seconds per connector (its `topic.prefix`), computed at scrape time. */
export type FreshnessSource = () => ReadonlyMap<string, number>;

export function registerSourceFreshness(registry: Registry, source: FreshnessSource): void {
  new Gauge({
    name: `${METRIC_PREFIX}source_freshness_seconds`,
    help: 'Age of the newest source moment known applied to Redis with every change before it: the newest Debezium heartbeat whose change-partition end offsets the group has committed. Grows while a connector is stopped or stalled even though lag stays 0.',
    labelNames: ['connector'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [connector, seconds] of source()) this.set({ connector }, seconds);
    },
  });
}
