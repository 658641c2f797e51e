/** The Grafana dashboard queries only metrics the service exports. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Metrics } from '../../../src/telemetry/metrics';

describe('dashboards/mis-cache-sync.json', () => {
  const file = path.resolve(__dirname, '../../../dashboards/mis-cache-sync.json');
  const dashboard = JSON.parse(readFileSync(file, 'utf8')) as {
    panels: { title: string; targets?: { expr: string }[] }[];
  };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

  it('uses only metric names the registry has (histograms through _bucket)', async () => {
    const exported = new Set(
      (await new Metrics().registry.getMetricsAsJSON()).map((m) => m.name as string),
    );
    const used = new Set(
      exprs
        .flatMap((e) => e.match(/mis_cache_sync_[a-z0-9_]+/g) ?? [])
        .map((n) => n.replace(/_bucket$/, '')),
    );
    expect(used.size).toBeGreaterThan(10);
    for (const name of used) expect([name, exported.has(name)]).toEqual([name, true]);
  });

  it('has a panel for each figure operators watch', () => {
    const titles = dashboard.panels.map((p) => p.title).join('\n');
    for (const t of [
      /Events \/ s by table/,
      /Keys removed/,
      /Rejected/,
      /lag per partition/i,
      /commit → Redis/,
      /hit rate/i,
      /Memory/,
      /Evicted/,
    ]) {
      expect(titles).toMatch(t);
    }
    expect(exprs.join('\n')).toMatch(/histogram_quantile\(0\.99,/);
  });
});
