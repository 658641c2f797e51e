/**
 * Security: the service runs under a least-privilege Redis ACL user (docs/security.md's), and no
 * password it is given ever shows in its logs, errors or printed configuration.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ConnectionPool } from '@databases/mysql';
import Redis from 'ioredis';
import { buildService, ROOT, startServiceProcess } from '../support/service-process';
import { mysqlPool, redisDb, sql, stackEnv, uniq, uniqId, waitFor } from '../support/stack';

/** The ACL of docs/security.md: only the commands and key patterns the service uses. */
export const SERVICE_ACL = [
  'on',
  'resetkeys',
  '~session:*',
  '~permissions:*',
  '~master:*',
  '~stats:*',
  '~temp:*',
  '~lock:*',
  '~mcs:*',
  'resetchannels',
  '&__keyspace@1__:stats:*', // the pattern index's notifications (exact patterns: PSUBSCRIBE)
  '&__keyspace@1__:mcs:pidx:fence:*',
  '-@all',
  '+ping',
  '+info',
  '+config|get',
  '+select',
  '+client|setname',
  '+get',
  '+set',
  '+del',
  '+unlink',
  '+scan',
  '+eval',
  '+zadd',
  '+zrangebyscore',
  '+zrem',
  '+zscore',
  '+psubscribe',
  // row index (Lua in src/row-index/storage.ts)
  '+exists',
  '+sadd',
  '+srem',
  '+smembers',
  '+hget', // snapshot progress and the completeness stamp (Lua in src/row-index/storage.ts)
  '+hset',
  '+hsetnx',
  '+hexists',
];

describe('security', () => {
  const user = `mcs-svc-${uniq()}`;
  const password = `pw-${uniq()}-secret`;
  let admin: Redis;
  let db: ConnectionPool;

  beforeAll(async () => {
    buildService();
    admin = redisDb(0);
    db = mysqlPool();
    await admin.call('ACL', 'SETUSER', user, 'reset', `>${password}`, ...SERVICE_ACL);
  });
  afterAll(async () => {
    await admin.call('ACL', 'DELUSER', user);
    await admin.quit();
    await db.dispose();
  });

  const aclUrl = () => {
    const u = new URL(stackEnv('REDIS_URL'));
    u.username = user;
    u.password = password;
    return u.toString();
  };

  it("docs/security.md's ACL is the one tested here", () => {
    const doc = readFileSync(path.join(ROOT, 'docs', 'security.md'), 'utf8');
    const line = doc.split('\n').find((l) => l.startsWith('ACL SETUSER mis-cache-sync '));
    expect(line?.split(' ').slice(5)).toEqual(SERVICE_ACL.slice(1)); // after `on >password`
  });

  it('the service works under the least-privilege ACL, which refuses anything else', async () => {
    const proc = await startServiceProcess({
      REDIS_URL: aclUrl(),
      MCS_GROUP_ID: `mcs-faults-acl-${uniq()}`,
      MCS_REFRESH_FAMILIES: 'master',
      LOG_LEVEL: 'debug',
    });
    const userId = uniqId();
    const cache = redisDb(1);
    const session = redisDb(0);
    try {
      await cache.set('permissions:user:' + userId, 'sentinel', 'EX', 600);
      await db.query(sql`INSERT INTO user_auth (user_id, menu_id) VALUES (${userId}, 1)`);
      await waitFor(
        async () => (await cache.exists(`permissions:user:${userId}`)) === 0,
        30_000,
        'insert event',
      );
      await cache.set(`permissions:user:${userId}`, '{}', 'EX', 600);
      await session.set(`session:user:${userId}`, '{}', 'EX', 600);
      await db.query(sql`UPDATE user_auth SET read_yn = 'N' WHERE user_id = ${userId}`);
      await waitFor(
        async () =>
          (await cache.exists(`permissions:user:${userId}`)) +
            (await session.exists(`session:user:${userId}`)) ===
          0,
        30_000,
        'the revocation under the ACL user',
      );
      await db.query(
        sql`UPDATE brands SET brand_name = ${`리안 ${Date.now()}`} WHERE brand_id = 1`,
      ); // refresh path (Lua)
      await waitFor(
        async () => (await cache.get('master:brands')) !== null,
        30_000,
        'master:brands rebuilt',
      );
      expect(proc.output()).not.toMatch(/NOPERM/);

      const limited = new Redis(aclUrl(), { lazyConnect: true, maxRetriesPerRequest: 0 });
      await limited.connect();
      await expect(limited.flushall()).rejects.toThrow(/NOPERM/);
      await expect(limited.keys('*')).rejects.toThrow(/NOPERM/);
      await expect(limited.set('other:key', '1')).rejects.toThrow(/NOPERM/);
      await limited.quit();
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
      await cache.quit();
      await session.quit();
      await db.query(sql`DELETE FROM user_auth WHERE user_id = ${userId}`);
    }
    expect(proc.output()).not.toContain(password);
  });

  it('passwords never appear in logs, errors or the printed configuration', async () => {
    const cli = `${ROOT}/dist/src/cli/main.js`;
    const saslPassword = `sasl-${uniq()}-secret`;
    const env = (extra: Record<string, string>) => ({
      ...process.env,
      LOG_LEVEL: 'debug',
      ...extra,
    });

    const printed = execFileSync('node', [cli, 'config'], {
      env: env({
        REDIS_URL: aclUrl(),
        MCS_KAFKA_SASL_MECHANISM: 'scram-sha-512',
        MCS_KAFKA_SASL_USERNAME: 'svc',
        MCS_KAFKA_SASL_PASSWORD: saslPassword,
        MYSQL_URL: `mysql://app:${password}@127.0.0.1:1/mis`,
      }),
    }).toString();
    expect(printed).toContain('"username": "svc"');
    expect(printed).not.toContain(password);
    expect(printed).not.toContain(saslPassword);

    // A configuration error about a URL holding a password does not echo it.
    const bad = spawnSync('node', [cli, 'run'], {
      env: env({ REDIS_URL: `http://u:${password}@h:1` }),
    });
    expect(bad.status).toBe(2);
    expect(`${bad.stdout}${bad.stderr}`).not.toContain(password);

    // A wrong Redis password at start: waiting would not help, so the service stops (exit 2)
    // naming the part and the setting, never printing the password.
    const wrong = `wrong-${password}`;
    const u = new URL(aclUrl());
    u.password = wrong;
    const run = spawnSync('node', [cli, 'run'], {
      env: env({ REDIS_URL: u.toString(), MCS_OUTAGE_REMINDER_MS: '100' }),
      timeout: 30_000,
      killSignal: 'SIGKILL',
    });
    const out = `${run.stdout}${run.stderr}`;
    expect(run.status).toBe(2);
    expect(out).toMatch(/refused the credentials \(WRONGPASS\)\. Fix: .*REDIS_URL/);
    expect(out).not.toContain(wrong);
  });
});
