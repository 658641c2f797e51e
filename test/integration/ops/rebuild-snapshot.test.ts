/**
 * `rebuild --table brands --where …` on the real stack: Debezium's incremental snapshot (signal
 * table, sink notifications) reads the test's own brand rows; of the keys they map to, a planted
 * stale one is deleted, a correct one stays, and a stale key of a row outside the condition is
 * not touched (the snapshot did not read that row). Logical DBs of its own (master 12, stats 13).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { CacheTruth } from '../../../src/consistency/truth';
import { createKafka } from '../../../src/intake/kafka';
import { createRowLoader, type RowLoader } from '../../../src/mysql/loader';
import { writeSignal } from '../../../src/mysql/signal';
import { snapshotRepair, snapshotSignal } from '../../../src/ops/rebuild-snapshot';
import type { RedisClients } from '../../../src/redis/clients';
import { KeyMatcher } from '../../../src/rules/match';
import { loadRules } from '../../../src/rules/registry';
import { silentLogger } from '../../../src/telemetry/logger';
import { useStack } from '../../support/harness';
import { ROOT, buildService } from '../../support/service-process';
import { sql, testConfig, uniqId } from '../../support/stack';

const dbs = { MCS_REDIS_DB_MASTER: '12', MCS_REDIS_DB_STATS: '13' };

describe('rebuild --table: repair through an incremental snapshot', () => {
  const stack = useStack();
  const config = testConfig(dbs);
  const rules = loadRules();
  const master = stack.redis(12);
  const stats = stack.redis(13);
  const clients: RedisClients = stack.redisClients(config.redis);
  let loader: RowLoader;
  let truth: CacheTruth;
  const base = uniqId();
  const [stale, correct, outside] = [base, base + 1, base + 2];

  beforeAll(async () => {
    buildService();
    loader = createRowLoader(config.mysql.url);
    truth = new CacheTruth(loader, new KeyMatcher(rules));
    await Promise.all([master.flushdb(), stats.flushdb()]);
    for (const id of [stale, correct, outside]) {
      await stack.db.query(
        sql`INSERT INTO brands (brand_id, brand_name, brand_code, sort, use_yn) VALUES (${id}, ${`b${id}`}, ${`C${id}`}, 90, 'Y')`,
      );
    }
    stack.cleanup(async () => {
      await stack.db.query(
        sql`DELETE FROM brands WHERE brand_id IN (${stale}, ${correct}, ${outside})`,
      );
      await Promise.all([master.flushdb(), stats.flushdb()]);
      await loader.close();
    });
  });

  const truthOf = async (key: string): Promise<string> => {
    const t = await truth.of('stats', key);
    if (t.kind !== 'value') throw new Error(`no truth for ${key}: ${t.kind}`);
    return JSON.stringify(t.value);
  };
  const wrong = (id: number) =>
    JSON.stringify({
      brand_id: id,
      brand_code: 'OLD',
      brand_name: 'old',
      total_amount: '99',
      order_count: 9,
    });

  it('builds the execute-snapshot signal with the condition as an additional condition', () => {
    expect(JSON.parse(snapshotSignal('mis.brands', 'brand_id = 7'))).toEqual({
      'data-collections': ['mis.brands'],
      type: 'incremental',
      'additional-conditions': [{ 'data-collection': 'mis.brands', filter: 'brand_id = 7' }],
    });
  });

  it('deletes the stale key of a snapshot row, keeps the correct one and rows outside the condition', async () => {
    const keyOf = (id: number) => `stats:sales:brand:${id}`;
    await stats.set(keyOf(stale), wrong(stale), 'EX', 600);
    await stats.set(keyOf(correct), await truthOf(keyOf(correct)), 'EX', 600);
    await stats.set(keyOf(outside), wrong(outside), 'EX', 600);
    const registry = new Registry();
    const updates: string[] = [];

    const report = await snapshotRepair(
      {
        config,
        rules,
        ports: clients.ports,
        loader,
        kafka: createKafka(config.kafka, silentLogger()),
        signal: (row) => writeSignal(config.mysql.url, undefined, row),
        logger: silentLogger(),
        progress: {
          update: (_d, _t, detail) => updates.push(detail),
          finish: (_d, _t, detail) => updates.push(`finish ${detail}`),
        },
        registry,
      },
      { table: 'brands', where: `brand_id IN (${stale}, ${correct})`, timeoutMs: 120_000 },
    );

    expect(report.status).toBe('COMPLETED');
    expect(report.rows).toBe(2);
    expect(report.expected).toBe(2);
    expect(await stats.get(keyOf(stale))).toBeNull();
    expect(await stats.get(keyOf(correct))).toBe(await truthOf(keyOf(correct)));
    expect(await stats.get(keyOf(outside))).toBe(wrong(outside));
    expect(report.families.stats).toEqual({ checked: 2, repaired: 1, unjudged: 0 });
    // Notifications drove the progress: started, then completed.
    expect(updates).toEqual(expect.arrayContaining(['STARTED brands', 'COMPLETED brands']));
    expect(updates.at(-1)).toBe('finish COMPLETED brands');
    const text = await registry.metrics();
    expect(text).toMatch(/mis_cache_sync_snapshot_keys_repaired_total\{family="stats"\} 1/);
    expect(text).toMatch(/mis_cache_sync_snapshot_rows_total 2/);
  });

  it('the CLI reports checked/repaired per family and writes the counters file', async () => {
    const key = `stats:sales:brand:${stale}`;
    await stats.set(key, wrong(stale), 'EX', 600);
    const dir = mkdtempSync(path.join(tmpdir(), 'mcs-rebuild-'));
    try {
      const file = path.join(dir, 'snapshot.prom');
      const r = spawnSync(
        'node',
        [
          `${ROOT}/dist/src/cli/main.js`,
          'rebuild',
          '--table',
          'brands',
          '--where',
          `brand_id = ${stale}`,
          '--timeout',
          '2m',
          '--metrics-file',
          file,
        ],
        { env: { ...process.env, ...dbs }, encoding: 'utf8' },
      );
      expect(r.stdout).toMatch(/: COMPLETED, 1 row\(s\) read \(1 expected\)/);
      expect(r.stdout).toMatch(/stats: 1 key\(s\) checked, 1 repaired/);
      expect(r.stderr).toMatch(/rebuild progress: .* rows/);
      expect(r.status).toBe(0);
      expect(await stats.get(key)).toBeNull();
      expect(readFileSync(file, 'utf8')).toMatch(
        /mis_cache_sync_snapshot_keys_repaired_total\{family="stats"\} 1/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names an unknown table', async () => {
    const r = spawnSync('node', [`${ROOT}/dist/src/cli/main.js`, 'rebuild', '--table', 'nope'], {
      env: { ...process.env, ...dbs },
      encoding: 'utf8',
    });
    expect(r.stderr + r.stdout).toMatch(/--table nope: no rule for it/);
    expect(r.status).toBe(2);
  });
});
