/**
 * The shipped alert rules (dashboards/alerts.yml) in a real Prometheus (Debian's package) that
 * scrapes the running service: a poison record is dead-lettered and MisCacheSyncDeadLetters
 * fires. Prometheus listens on 127.0.0.1:21820 with its own data folder under the OS temp folder,
 * and is stopped by pid. The service follows topics of a database name of its own
 * (`mis.<uniq>.*`, deleted afterwards), so the poison record reaches no other consumer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RunningService } from '../../../src/app/service';
import { startService } from '../../../src/app/service';
import { createLogger } from '../../../src/telemetry/logger';
import { kafka, testConfig, uniq, waitFor } from '../../support/stack';

const PROMETHEUS_PORT = 21820;
const RULES = path.resolve(__dirname, '..', '..', '..', 'dashboards', 'alerts.yml');

interface AlertsReply {
  data: { alerts: { labels: Record<string, string>; state: string; value: string }[] };
}

describe('alert rules in a real Prometheus scraping the service', () => {
  let dir: string;
  let prometheus: ChildProcess | undefined;
  let service: RunningService | undefined;
  const database = `mcsalert${uniq()}`;
  const config = testConfig({
    MYSQL_DATABASE: database,
    MCS_DATABASES: database,
    MCS_DLQ_TOPIC: `mcs-test-alert-dlq-${uniq()}`,
    MCS_FROM_BEGINNING: 'true',
  });
  const admin = kafka().admin();

  beforeAll(async () => {
    await admin.connect();
    service = await startService(config, createLogger('warn'));
    dir = mkdtempSync(path.join(tmpdir(), 'mcs-prometheus-'));
    copyFileSync(RULES, path.join(dir, 'alerts.yml'));
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        'rule_files: [alerts.yml]',
        'scrape_configs:',
        '  - job_name: mis-cache-sync',
        `    static_configs: [{ targets: ['127.0.0.1:${service.httpPort}'] }]`,
        '',
      ].join('\n'),
    );
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${PROMETHEUS_PORT}`,
      ],
      { stdio: 'ignore' },
    );
    await waitFor(
      async () =>
        (await fetch(`http://127.0.0.1:${PROMETHEUS_PORT}/-/ready`).catch(() => null))?.ok === true,
      30_000,
      'Prometheus to be ready',
      200,
    );
  });

  afterAll(async () => {
    if (prometheus?.pid && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus?.once('exit', r));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await service?.stop();
    const ours = (await admin.listTopics()).filter(
      (t) => t.includes(`.${database}.`) || t === config.kafka.deadLetterTopic,
    );
    await admin.deleteTopics({ topics: ours }).catch(() => undefined);
    await admin.disconnect();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const api = async <T>(route: string): Promise<T> =>
    (await (await fetch(`http://127.0.0.1:${PROMETHEUS_PORT}${route}`)).json()) as T;

  it('MisCacheSyncDeadLetters fires once a poison record is dead-lettered', async () => {
    // Scraped, with the counter at 0, before the poison record.
    await waitFor(
      async () => {
        const r = await api<{ data: { result: unknown[] } }>(
          '/api/v1/query?query=mis_cache_sync_dead_lettered_events_total',
        );
        return r.data.result.length === 1;
      },
      30_000,
      'the first scrape',
      500,
    );
    const firing = async () =>
      (await api<AlertsReply>('/api/v1/alerts')).data.alerts.filter(
        (a) => a.labels.alertname === 'MisCacheSyncDeadLetters' && a.state === 'firing',
      );
    expect(await firing()).toEqual([]);

    const producer = kafka().producer();
    await producer.connect();
    await producer.send({
      topic: `${config.kafka.topicPrefix}.${database}.users`,
      messages: [{ value: 'not a change event' }],
    });
    await producer.disconnect();

    await waitFor(async () => (await firing()).length === 1, 60_000, 'the alert to fire', 500);
    const [alert] = await firing();
    expect(alert?.labels.severity).toBe('warning');
    expect(Number(alert?.value)).toBeGreaterThan(0);
  });

  it('the gauges of the state alerts (skipping all, index untrusted, row index incomplete) and dead letters pending are scraped', async () => {
    const series = async (metric: string) =>
      (
        await api<{ data: { result: { value: [number, string] }[] } }>(
          `/api/v1/query?query=${metric}`,
        )
      ).data.result;
    for (const metric of [
      'mis_cache_sync_skipping_all',
      'mis_cache_sync_pattern_index_trusted',
      'mis_cache_sync_row_index_complete',
      'mis_cache_sync_dead_letters_pending',
    ]) {
      await waitFor(
        async () => (await series(metric)).length > 0,
        30_000,
        `${metric} scraped`,
        500,
      );
    }
    // the service reads its own topics: it skips nothing
    expect((await series('mis_cache_sync_skipping_all'))[0]?.value[1]).toBe('0');
  });

  it('exports the source freshness MisCacheSyncSourceStale reads, kept small by heartbeats', async () => {
    type Vector = {
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    const query = '/api/v1/query?query=mis_cache_sync_source_freshness_seconds';
    await waitFor(
      async () => {
        const [s] = (await api<Vector>(query)).data.result;
        return s !== undefined && Number(s.value[1]) < 30;
      },
      60_000,
      'a scraped freshness under 30 s',
      500,
    );
    const [series] = (await api<Vector>(query)).data.result;
    expect(series?.metric.connector).toBe(config.kafka.topicPrefix);
    const stale = (await api<AlertsReply>('/api/v1/alerts')).data.alerts.filter(
      (a) => a.labels.alertname === 'MisCacheSyncSourceStale',
    );
    expect(stale).toEqual([]);
  });
});
