/** Metrics recorded from intake results, and the HTTP endpoint over a fake readiness. */
import { request } from 'node:http';
import type { FamilyTally } from '../../../src/telemetry/types';
import {
  aggregateReadiness,
  startHttpEndpoint,
  type HttpEndpoint,
  type ReadinessReport,
} from '../../../src/telemetry/http';
import { silentLogger } from '../../../src/telemetry/logger';
import { Metrics, tableOpRuns } from '../../../src/telemetry/metrics';

/** The value of one sample line (`name{labels} value`) of the Prometheus text. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('readiness aggregation', () => {
  const up = { name: 'db 0', ok: true };
  const down = { name: 'db 1', ok: false, detail: 'connection reconnecting' };

  it('is ready only with the group joined and every Redis connection answering', () => {
    expect(aggregateReadiness('joined', [up, { ...up, name: 'db 1' }]).ready).toBe(true);
    expect(aggregateReadiness('joined', [up, down])).toEqual({
      ready: false,
      kafka: { ok: true, state: 'joined' },
      redis: { ok: false, connections: [up, down] },
    });
    for (const state of ['starting', 'crashed', 'stopped'] as const) {
      expect(aggregateReadiness(state, [up])).toMatchObject({
        ready: false,
        kafka: { ok: false, state },
        redis: { ok: true },
      });
    }
    expect(aggregateReadiness('joined', []).ready).toBe(false); // no connection is not healthy
  });
});

describe('Metrics', () => {
  it('row index completeness per table (read at scrape) and fallbacks by reason', async () => {
    const m = new Metrics();
    m.setRowIndexSource(async () => [
      { table: 'user_auth', complete: true },
      { table: 'products', complete: false },
    ]);
    m.rowIndexFallbacks(['entry-missing', 'entry-missing', 'related-unknown']);
    const { body } = await m.scrape();
    expect(sample(body, 'mis_cache_sync_row_index_complete{table="user_auth"}')).toBe(1);
    expect(sample(body, 'mis_cache_sync_row_index_complete{table="products"}')).toBe(0);
    expect(sample(body, 'mis_cache_sync_fallbacks_total{reason="entry-missing"}')).toBe(2);
    expect(sample(body, 'mis_cache_sync_fallbacks_total{reason="related-unknown"}')).toBe(1);
  });

  it('counts events by table and op, rejected by code, tombstones', async () => {
    const m = new Metrics();
    m.recordPlan(
      [
        { table: 'user_auth', op: 'c' },
        { table: 'user_auth', op: 'c' },
        { table: 'brands', op: 'u' },
      ],
      2,
      ['ENVELOPE_MALFORMED', 'ENVELOPE_MALFORMED', 'UNKNOWN_TABLE'],
    );
    m.deadLetteredEvents(3);
    m.retry('REDIS_UNAVAILABLE');
    const { body } = await m.scrape();
    expect(sample(body, 'mis_cache_sync_events_total{table="user_auth",op="c"}')).toBe(2);
    expect(sample(body, 'mis_cache_sync_events_total{table="brands",op="u"}')).toBe(1);
    expect(sample(body, 'mis_cache_sync_rejected_events_total{code="ENVELOPE_MALFORMED"}')).toBe(2);
    expect(sample(body, 'mis_cache_sync_rejected_events_total{code="UNKNOWN_TABLE"}')).toBe(1);
    expect(sample(body, 'mis_cache_sync_tombstones_total')).toBe(2);
    expect(sample(body, 'mis_cache_sync_dead_lettered_events_total')).toBe(3);
    expect(sample(body, 'mis_cache_sync_retries_total{code="REDIS_UNAVAILABLE"}')).toBe(1);
    expect(sample(body, 'mis_cache_sync_batches_total')).toBe(1);
    expect(body).toMatch(/^process_cpu_user_seconds_total /m); // default process metrics
  });

  it('keys per family and both latencies (seconds from commit / append to the Redis ack)', async () => {
    const m = new Metrics();
    const tally: FamilyTally = new Map([
      ['permissions', { deleted: 4, patternDeleted: 0, refreshed: 0, refreshFallbacks: 0 }],
      ['stats', { deleted: 0, patternDeleted: 7, refreshed: 0, refreshFallbacks: 0 }],
      ['master', { deleted: 1, patternDeleted: 0, refreshed: 2, refreshFallbacks: 1 }],
    ]);
    const ack = 1_700_000_010_000;
    m.recordApplied(
      tally,
      [
        { table: 'user_auth', op: 'u', sourceTsMs: ack - 40, kafkaTsMs: ack - 20 },
        { table: 'user_auth', op: 'd', sourceTsMs: ack - 3000, kafkaTsMs: ack - 2990 },
        { table: 'brands', op: 'r', sourceTsMs: ack - 999_000, kafkaTsMs: ack - 10 }, // snapshot
        { table: 'brands', op: 'u', sourceTsMs: ack + 500 }, // clock skew: counted as 0
      ],
      ack,
    );
    const { body } = await m.scrape();
    expect(sample(body, 'mis_cache_sync_keys_deleted_total{family="permissions"}')).toBe(4);
    expect(sample(body, 'mis_cache_sync_keys_deleted_total{family="master"}')).toBe(1);
    expect(sample(body, 'mis_cache_sync_keys_pattern_deleted_total{family="stats"}')).toBe(7);
    expect(sample(body, 'mis_cache_sync_keys_refreshed_total{family="master"}')).toBe(2);
    expect(sample(body, 'mis_cache_sync_refresh_fallbacks_total{family="master"}')).toBe(1);
    const commit = 'mis_cache_sync_commit_to_redis_seconds';
    expect(sample(body, `${commit}_count{table="user_auth"}`)).toBe(2);
    expect(sample(body, `${commit}_bucket{le="0.05",table="user_auth"}`)).toBe(1);
    expect(sample(body, `${commit}_bucket{le="5",table="user_auth"}`)).toBe(2);
    expect(sample(body, `${commit}_count{table="brands"}`)).toBe(1); // the snapshot read left out
    expect(sample(body, `${commit}_bucket{le="0.005",table="brands"}`)).toBe(1);
    const kafka = 'mis_cache_sync_kafka_to_redis_seconds';
    expect(sample(body, `${kafka}_count{table="user_auth"}`)).toBe(2);
    expect(sample(body, `${kafka}_sum{table="user_auth"}`)).toBeCloseTo(3.01, 5);
    expect(sample(body, `${kafka}_count{table="brands"}`)).toBe(1);
    expect(sample(body, `${kafka}_bucket{le="60",table="user_auth"}`)).toBe(2);
  });

  it('consumer lag = high watermark - last offset - 1, per topic and partition', async () => {
    const m = new Metrics();
    m.consumerLag('mis.mis.users', 0, '120', '99');
    m.consumerLag('mis.mis.users', 1, '10', '9');
    let { body } = await m.scrape();
    expect(sample(body, 'mis_cache_sync_consumer_lag{topic="mis.mis.users",partition="0"}')).toBe(
      20,
    );
    expect(sample(body, 'mis_cache_sync_consumer_lag{topic="mis.mis.users",partition="1"}')).toBe(
      0,
    );
    m.resetLag();
    ({ body } = await m.scrape());
    expect(body).not.toMatch(/^mis_cache_sync_consumer_lag\{/m);
  });

  it('reads Redis INFO once per scrape for every Redis gauge, and marks a silent server down', async () => {
    const m = new Metrics();
    let calls = 0;
    m.setRedisInfoSource(async () => {
      calls += 1;
      return [
        {
          server: '10.0.0.1:6379',
          figures: {
            usedMemory: 2048,
            maxMemory: 0,
            keyspaceHits: 9,
            keyspaceMisses: 1,
            hitRatio: 0.9,
            evictedKeys: 4,
            expiredKeys: 5,
            dbKeys: { '1': 33 },
          },
        },
        { server: '10.0.0.2:6379' },
      ];
    });
    m.setGroupJoined(() => true);
    const { body } = await m.scrape();
    expect(calls).toBe(1);
    const s = (name: string, server = '10.0.0.1:6379') =>
      sample(body, `mis_cache_sync_redis_${name}{server="${server}"}`);
    expect(s('up')).toBe(1);
    expect(s('up', '10.0.0.2:6379')).toBe(0);
    expect(s('keyspace_hit_ratio')).toBe(0.9);
    expect(s('used_memory_bytes')).toBe(2048);
    expect(s('maxmemory_bytes')).toBe(0);
    expect(s('keyspace_hits_total')).toBe(9);
    expect(s('keyspace_misses_total')).toBe(1);
    expect(s('evicted_keys_total')).toBe(4);
    expect(s('expired_keys_total')).toBe(5);
    expect(s('used_memory_bytes', '10.0.0.2:6379')).toBeUndefined();
    expect(sample(body, 'mis_cache_sync_redis_db_keys{server="10.0.0.1:6379",db="1"}')).toBe(33);
    expect(sample(body, 'mis_cache_sync_consumer_group_joined')).toBe(1);
    expect(body).toMatch(/^# TYPE mis_cache_sync_redis_evicted_keys_total counter$/m);
  });
});

describe('HTTP endpoint', () => {
  let endpoint: HttpEndpoint | undefined;
  let report: ReadinessReport;
  const metrics = new Metrics();

  beforeAll(async () => {
    endpoint = await startHttpEndpoint({
      host: '127.0.0.1',
      port: 0,
      metrics,
      readiness: async () => report,
      logger: silentLogger(),
    });
  });
  afterAll(async () => {
    await endpoint?.close();
  });

  function get(path: string, method = 'GET') {
    return new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: endpoint?.port, path, method }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type']),
            body,
          }),
        );
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('serves /metrics, /healthz and /readyz (200 ready, 503 with the failing part)', async () => {
    expect(endpoint?.port).toBeGreaterThan(0);
    metrics.recordPlan([{ table: 'users', op: 'u' }], 0, []);
    const scraped = await get('/metrics');
    expect(scraped.status).toBe(200);
    expect(scraped.type).toMatch(/^text\/plain; version=0.0.4/);
    expect(scraped.body).toContain('mis_cache_sync_events_total{table="users",op="u"} 1');

    expect((await get('/healthz')).status).toBe(200);

    report = aggregateReadiness('joined', [{ name: 'db 0', ok: true }]);
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ status: 'ready' });

    report = aggregateReadiness('starting', [{ name: 'db 0', ok: false, detail: 'timeout' }]);
    const notReady = await get('/readyz');
    expect(notReady.status).toBe(503);
    expect(JSON.parse(notReady.body)).toEqual({
      status: 'not ready',
      kafka: { ok: false, state: 'starting' },
      redis: { ok: false, connections: [{ name: 'db 0', ok: false, detail: 'timeout' }] },
    });
  });

  it('answers 404 elsewhere and 405 to other methods; HEAD has no body', async () => {
    expect((await get('/nope')).status).toBe(404);
    expect((await get('/metrics', 'POST')).status).toBe(405);
    const head = await get('/healthz', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('a port in use leaves the service without the endpoint instead of failing', async () => {
    const second = await startHttpEndpoint({
      host: '127.0.0.1',
      port: endpoint?.port ?? 0,
      metrics: new Metrics(),
      readiness: async () => report,
      logger: silentLogger(),
    });
    expect(second).toBeUndefined();
  });
});

describe('tableOpRuns', () => {
  it('counts consecutive events of one table and op; a table seen again starts a new run', () => {
    const h = (table: string, op: string) => ({ table, op });
    expect(tableOpRuns([])).toEqual([]);
    expect(
      tableOpRuns([
        h('users', 'u'),
        h('users', 'u'),
        h('users', 'd'),
        h('brands', 'd'),
        h('users', 'u'),
      ]),
    ).toEqual([
      ['users', 'u', 2],
      ['users', 'd', 1],
      ['brands', 'd', 1],
      ['users', 'u', 1],
    ]);
  });
});
