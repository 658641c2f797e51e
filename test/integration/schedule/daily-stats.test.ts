/** The daily drop of yesterday's statistics against the real Redis, with a controlled clock. */
import { loadConfig } from '../../../src/config/config';
import { DailyStatsJob } from '../../../src/schedule/daily-stats';
import { silentLogger } from '../../../src/telemetry/logger';
import { useStack } from '../../support/harness';
import { uniq } from '../../support/stack';

describe('DailyStatsJob', () => {
  const config = loadConfig();
  const stack = useStack();
  const db1 = stack.redis(1);
  const clients = stack.redisClients(config.redis);
  let ns: string;

  beforeEach(() => {
    ns = `t-sched-${uniq()}`;
  });
  afterEach(async () => {
    const keys = await db1.keys(`${ns}*`); // test cleanup only
    if (keys.length) await db1.del(...keys);
  });

  // how soon a busy slot is tried again (the default is seconds)
  const retrying = { busyRetryMs: 50 };
  const job = (now: string) =>
    new DailyStatsJob(
      clients.ports.stats,
      {
        cron: '0 0 * * *',
        zone: 'Asia/Seoul',
        pattern: `${ns}:stats:daily_*:{date}`,
        lockTtl: 300,
        scanCount: 100,
        unlinkBatch: 100,
        lockKey: `${ns}:lock`,
        markerKey: `${ns}:marker`,
        ...retrying,
      },
      silentLogger(),
      () => new Date(now),
    );

  async function seed(): Promise<void> {
    for (const k of [
      'daily_sales:20240131',
      'daily_orders:20240131',
      'daily_sales:20240201',
      'monthly_revenue:202401',
    ]) {
      await db1.set(`${ns}:stats:${k}`, '1', 'EX', 600);
    }
  }
  const left = async () =>
    (await db1.keys(`${ns}:stats:*`)).map((k) => k.slice(ns.length + 7)).sort();

  it("at 00:00 KST on Feb 1st drops Jan 31st's daily statistics only", async () => {
    await seed();
    // 2024-02-01 00:00:30 KST is 2024-01-31 15:00:30 UTC
    const [result] = await job('2024-01-31T15:00:30Z').runDue();
    expect(result).toEqual({ slot: '2024-01-31T15:00:00.000Z', date: '20240131', deleted: 2 });
    expect(await left()).toEqual(['daily_sales:20240201', 'monthly_revenue:202401']);
  });

  it('runs a slot once across instances, and catches up missed slots after downtime', async () => {
    await seed();
    expect((await job('2024-01-31T15:00:30Z').runDue())[0]?.deleted).toBe(2);
    // a second instance at the same slot finds it done
    expect(await job('2024-01-31T15:01:00Z').runDue()).toEqual([]);
    // down for two days: at restart both missed slots run, oldest first
    await db1.set(`${ns}:stats:daily_sales:20240201`, '1', 'EX', 600);
    await db1.set(`${ns}:stats:daily_sales:20240202`, '1', 'EX', 600);
    const results = await job('2024-02-02T16:00:00Z').runDue();
    expect(results.map((r) => [r.date, r.deleted])).toEqual([
      ['20240201', 1],
      ['20240202', 1],
    ]);
    expect(await left()).toEqual(['monthly_revenue:202401']);
  });

  it('skips while another instance holds the lock', async () => {
    await seed();
    await db1.set(`${ns}:lock`, 'someone-else', 'EX', 60);
    const j = job('2024-01-31T15:00:30Z');
    const [result] = await j.runDue();
    j.stop();
    expect(result?.deleted).toBeNull();
    expect(await left()).toHaveLength(4);
    expect(await db1.get(`${ns}:lock`)).toBe('someone-else');
  });

  /** Polls until `check` holds; the test's own timeout bounds it. */
  async function until(check: () => Promise<boolean>): Promise<void> {
    while (!(await check())) await new Promise((r) => setTimeout(r, 25));
  }

  it('tries a slot again while its lock is busy, and drops once the holder lets go', async () => {
    await seed();
    // the application's own batch holds the lock and finishes without dropping anything
    await db1.set(`${ns}:lock`, 'mis-app-batch', 'EX', 60);
    const j = job('2024-01-31T15:00:30Z');
    try {
      const [first] = await j.runDue();
      expect(first?.deleted).toBeNull();
      expect(await left()).toHaveLength(4);
      await db1.del(`${ns}:lock`);
      await until(async () => (await left()).length === 2);
      expect(await left()).toEqual(['daily_sales:20240201', 'monthly_revenue:202401']);
      expect(await db1.get(`${ns}:marker`)).toBe('2024-01-31T15:00:00.000Z');
    } finally {
      j.stop();
    }
  }, 30_000);

  it("takes a crashed instance's lock once its TTL runs out", async () => {
    await seed();
    // the holder died: nobody releases the lock, its TTL ends it
    await db1.set(`${ns}:lock`, 'crashed-instance', 'PX', 400);
    const j = job('2024-01-31T15:00:30Z');
    try {
      expect((await j.runDue())[0]?.deleted).toBeNull();
      await until(async () => (await left()).length === 2);
      expect(await db1.exists(`${ns}:lock`)).toBe(0);
    } finally {
      j.stop();
    }
  }, 30_000);
});
