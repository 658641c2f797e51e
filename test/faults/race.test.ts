/**
 * The stale-set race of cache-aside readers, measured with the delayed second invalidation off
 * (MCS_SECOND_PASS_DELAY_MS=0) and on (1000 ms).
 *
 * The application is simulated, not changed: readers loop { GET permissions:user:{u} (DB 1);
 * on a miss read the user's user_auth rows from MariaDB, wait 0–400 ms (a slow app server), SET
 * the JSON of what they read with the app's TTL } while writers flip user_auth.read_yn of random
 * users. A reader that read before a commit and writes after that commit's invalidation puts the
 * old value back. After both stop and the pipeline settled, a cached value that differs from
 * MariaDB is stale (a missing key is fine: the next reader rebuilds it).
 */
import connect, { type ConnectionPool } from '@databases/mysql';
import type Redis from 'ioredis';
import type { Config } from '../../src/config/config';
import type { RunningService } from '../../src/app/service';
import {
  redisDb,
  sql,
  stackEnv,
  startCaughtUp,
  testConfig,
  uniqId,
  waitCaughtUp,
  waitFor,
} from '../support/stack';

const K = 40; // users per phase, one user_auth row each
const READERS = 40;
const WRITERS = 4;
const RUN_MS = 10_000;
const READER_WAIT_MS = 400; // the slow app server between its MariaDB read and its SET
const READER_THINK_MS = 10; // between two requests of a reader that hit
const WRITER_THINK_MS = 10;
const SETTLE_MS = 3_000; // longer than the second-pass delay (1000 ms) plus its drain tick
const PERMISSIONS_TTL = 3600;
const BOUND_MS = 15_000;

interface PhaseResult {
  stale: number;
  present: number;
  writes: number;
  reads: number;
  misses: number;
  sets: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const pick = (xs: readonly number[]): number => xs[Math.floor(Math.random() * xs.length)] ?? 0;
const permKey = (u: number) => `permissions:user:${u}`;

describe('stale-set race of cache-aside readers (second pass off vs on)', () => {
  let db: ConnectionPool;
  let cache: Redis;
  const results: Partial<Record<'off' | 'on', PhaseResult>> = {};

  beforeAll(() => {
    // Readers and writers run concurrently: a pool larger than the helpers' default of 2.
    db = connect({ connectionString: stackEnv('MYSQL_URL'), bigIntMode: 'number', poolSize: 24 });
    cache = redisDb(1);
  });

  afterAll(async () => {
    await Promise.all([cache?.quit(), db?.dispose()]);
    const { off, on } = results;
    const n = (r: PhaseResult | undefined) => (r ? String(r.stale) : '?');
    const sum = (f: (r: PhaseResult) => number) => (off ? f(off) : 0) + (on ? f(on) : 0);
    console.log(
      `RACE stale keys: off=${n(off)}/${K}, on=${n(on)}/${K}, writes=${sum((r) => r.writes)}, reads=${sum((r) => r.reads)}`,
    );
    for (const [phase, r] of Object.entries(results)) {
      console.log(
        `RACE ${phase}: stale=${r.stale}/${K} cached=${r.present}/${K} writes=${r.writes} reads=${r.reads} misses=${r.misses} sets=${r.sets}`,
      );
    }
  });

  /** What the application caches for a user: its permission rows, as JSON. */
  async function loadPermissions(u: number): Promise<string> {
    const rows = await db.query(
      sql`SELECT menu_id, create_yn, read_yn, update_yn, delete_yn, use_yn
          FROM user_auth WHERE user_id = ${u} ORDER BY menu_id`,
    );
    return JSON.stringify(rows);
  }

  async function runPhase(delayMs: string): Promise<PhaseResult> {
    const base = uniqId();
    const users = Array.from({ length: K }, (_, i) => base + i);
    const marker = base + K; // its change tells when everything before it was applied
    const config: Config = testConfig({ MCS_SECOND_PASS_DELAY_MS: delayMs });
    const topic = `${config.kafka.topicPrefix}.${config.kafka.database}.user_auth`;
    const result: PhaseResult = { stale: 0, present: 0, writes: 0, reads: 0, misses: 0, sets: 0 };
    let service: RunningService | undefined;
    try {
      service = await startCaughtUp(config);

      // Rows of our own; wait until their insert events went through (probe keys gone).
      for (const u of [...users, marker]) await cache.set(permKey(u), 'probe', 'EX', 600);
      await db.query(
        sql`INSERT INTO user_auth (user_id, menu_id, read_yn) VALUES ${sql.join(
          [...users, marker].map((u) => sql`(${u}, 1, 'Y')`),
          ',',
        )}`,
      );
      await waitFor(
        async () => (await cache.exists(...[...users, marker].map(permKey))) === 0,
        BOUND_MS,
        'the insert events',
        5,
      );
      await sleep(Number(delayMs) + 500); // and their own second pass, if any

      let stopWriters = false;
      let stopReaders = false;
      const reader = async () => {
        while (!stopReaders) {
          const u = pick(users);
          result.reads++;
          if ((await cache.get(permKey(u))) === null) {
            result.misses++;
            const value = await loadPermissions(u);
            await sleep(Math.random() * READER_WAIT_MS);
            await cache.set(permKey(u), value, 'EX', PERMISSIONS_TTL);
            result.sets++;
          } else {
            await sleep(Math.random() * READER_THINK_MS);
          }
        }
      };
      const writer = async () => {
        while (!stopWriters) {
          const u = pick(users);
          await db.query(
            sql`UPDATE user_auth SET read_yn = IF(read_yn = 'Y', 'N', 'Y') WHERE user_id = ${u}`,
          );
          result.writes++;
          await sleep(Math.random() * WRITER_THINK_MS);
        }
      };
      const readers = Array.from({ length: READERS }, reader);
      const writers = Array.from({ length: WRITERS }, writer);
      await sleep(RUN_MS);
      stopWriters = true;
      await Promise.all(writers);
      stopReaders = true;
      await Promise.all(readers); // in-flight readers finish their SET: that is the race

      // Settle: every event up to the marker applied, then longer than the second-pass delay.
      await cache.set(permKey(marker), 'probe', 'EX', 600);
      await db.query(sql`UPDATE user_auth SET read_yn = 'N' WHERE user_id = ${marker}`);
      await waitFor(
        async () => (await cache.exists(permKey(marker))) === 0,
        BOUND_MS,
        'the marker event',
        5,
      );
      await waitCaughtUp(config.kafka.groupId, [topic]);
      await sleep(SETTLE_MS);

      for (const u of users) {
        const cached = await cache.get(permKey(u));
        if (cached === null) continue; // missing is fine: the next reader rebuilds it
        result.present++;
        if (cached !== (await loadPermissions(u))) result.stale++;
      }
      return result;
    } finally {
      await service?.stop();
      await db.query(sql`DELETE FROM user_auth WHERE user_id BETWEEN ${base} AND ${marker}`);
      await cache.del(...[...users, marker].map(permKey));
    }
  }

  it('with the second pass off (MCS_SECOND_PASS_DELAY_MS=0) readers leave stale values', async () => {
    const r = await runPhase('0');
    results.off = r;
    expect(r.writes).toBeGreaterThan(100);
    expect(r.misses).toBeGreaterThan(100);
    // The scenario reproduces the race every time (verified over repeated runs).
    expect(r.stale).toBeGreaterThan(0);
  });

  it('with the second pass on (1000 ms) no stale value survives', async () => {
    const r = await runPhase('1000');
    results.on = r;
    expect(r.writes).toBeGreaterThan(100);
    expect(r.misses).toBeGreaterThan(100);
    expect(r.stale).toBe(0);
  });
});
