/**
 * rebuild and verify on the real stack, in logical DBs of their own (8 session, 9 master), so
 * the cache they judge holds only what the test planted.
 */
import { spawnSync } from 'node:child_process';
import type { ConnectionPool } from '@databases/mysql';
import type Redis from 'ioredis';
import { createRowLoader, type RowLoader } from '../../../src/mysql/loader';
import { rebuild } from '../../../src/ops/rebuild';
import { verify } from '../../../src/consistency/verify';
import { createRedisClients, type RedisClients } from '../../../src/redis/clients';
import { loadRules } from '../../../src/rules/registry';
import { silentLogger } from '../../../src/telemetry/logger';
import { ROOT, buildService } from '../../support/service-process';
import { mysqlPool, redisDb, sql, testConfig, uniqId } from '../../support/stack';

const dbs = { MCS_REDIS_DB_SESSION: '8', MCS_REDIS_DB_MASTER: '9' };

describe('rebuild and verify', () => {
  const config = testConfig(dbs);
  const rules = loadRules();
  let db: ConnectionPool;
  let loader: RowLoader;
  let clients: RedisClients;
  let session: Redis;
  let master: Redis;

  beforeAll(async () => {
    buildService();
    db = mysqlPool();
    loader = createRowLoader(config.mysql.url);
    clients = createRedisClients(config.redis, silentLogger());
    await clients.ready();
    session = redisDb(8);
    master = redisDb(9);
    await session.flushdb();
    await master.flushdb();
  });
  afterAll(async () => {
    await session.flushdb();
    await master.flushdb();
    await Promise.all([
      session.quit(),
      master.quit(),
      clients.close(),
      loader.close(),
      db.dispose(),
    ]);
  });

  const deps = () => ({ config, rules, ports: clients.ports, loader, logger: silentLogger() });
  const cli = (...args: string[]) =>
    spawnSync('node', [`${ROOT}/dist/src/cli/main.js`, ...args], {
      env: { ...process.env, ...dbs },
      encoding: 'utf8',
    });

  it('rebuild warms every master key from MySQL; delete-only families have nothing to warm', async () => {
    const report = await rebuild(deps(), ['master', 'permissions']);
    const categories = (
      await db.query(sql`SELECT COUNT(DISTINCT category_id) AS n FROM products`)
    )[0]?.n as number;
    expect(report.families.master?.written).toBe(2 + categories); // brands, departments, each category
    expect(report.withoutLoader).toEqual(['permissions']);
    const brands = await db.query(
      sql`SELECT brand_id AS id, brand_name AS name, brand_code AS code FROM brands WHERE use_yn = 'Y' ORDER BY sort, brand_id`,
    );
    expect(JSON.parse((await master.get('master:brands')) ?? 'null')).toEqual(brands);
    expect(await master.ttl('master:departments')).toBeGreaterThan(21000);
  });

  it('verify passes on a clean cache and finds planted stale keys, failing the exit status', async () => {
    const clean = await verify(deps(), { sample: 100, families: ['master', 'session'] });
    expect(clean.stale).toBe(0);
    expect(clean.consistent).toBeGreaterThanOrEqual(2);
    const ok = cli('verify', '--families', 'master,session');
    expect(ok.stdout).toMatch(/stale 0,/);
    expect(ok.status).toBe(0);

    const disabled = uniqId();
    const active = disabled + 1;
    await db.query(
      sql`INSERT INTO users (user_id, username, use_yn) VALUES (${disabled}, ${`d${disabled}`}, 'N'), (${active}, ${`a${active}`}, 'Y')`,
    );
    try {
      await master.set(
        'master:brands',
        JSON.stringify([{ id: 1, name: '옛 이름', code: 'REAN' }]),
        'EX',
        600,
      );
      await session.set(`session:user:${disabled}`, '{"user_id":1}', 'EX', 600);
      // the session the application builds for the active user (truth.ts): consistent
      const activeSession = {
        user_id: active,
        username: `a${active}`,
        dept_id: null,
        permissions: {},
        last_activity: '2026-01-01T00:00:00Z',
      };
      await session.set(`session:user:${active}`, JSON.stringify(activeSession), 'EX', 600);
      await session.set('session:temp:upload_abc', '{}', 'EX', 600); // no rule produces it

      const report = await verify(deps(), { sample: 100, families: ['master', 'session'] });
      expect(report.staleKeys.map((s) => `${s.db} ${s.key}`).sort()).toEqual([
        `8 session:user:${disabled}`,
        '9 master:brands',
      ]);
      expect(report.unknown).toBe(1);
      const failed = cli('verify', '--families', 'master,session');
      expect(failed.status).toBe(1);
      expect(failed.stdout).toMatch(/STALE DB 9 {2}master:brands/);
      expect(failed.stdout).toMatch(new RegExp(`STALE DB 8 {2}session:user:${disabled}`));
      expect(failed.stdout).toMatch(/FAILED/);
      // a threshold above the stale share passes
      expect(cli('verify', '--families', 'master,session', '--max-stale', '0.9').status).toBe(0);
    } finally {
      await db.query(sql`DELETE FROM users WHERE user_id IN (${disabled}, ${active})`);
    }
  });
});
