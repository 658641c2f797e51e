/**
 * Secure stack: the operator commands as real CLI processes under the least-privilege users.
 * - `replay` as the service's Kafka principal and Redis user: re-applies the retained changes of
 *   a table, then deletes its one-off group (the ACL Delete on groups mis-cache-sync-replay-*);
 *   `--reset-group` moves a group's offsets (Read/Describe on the group prefix).
 * - `verify` as the service's Redis user and the verify user of MySQL (SELECT on every table
 *   the truth of a cached key reads); the service's own MySQL user is refused `users`.
 */
import type { ConnectionPool } from '@databases/mysql';
import type Redis from 'ioredis';
import { requireSecureStack, runCommand } from '../support/secure';
import { kafka, mysqlPool, redisDb, sql, uniq, uniqId, waitFor } from '../support/stack';

const REPLAY_PREFIX = 'mis-cache-sync-replay-';
/** A Redis DB no other test uses: verify samples every key of its family there. */
const VERIFY_DB = 13;

async function groupsWithPrefix(prefix: string): Promise<string[]> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const { groups } = await admin.listGroups();
    return groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
  } finally {
    await admin.disconnect();
  }
}

async function endOffset(topic: string): Promise<number> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    return ends.reduce((n, e) => n + Number(e.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/**
 * On a freshly started broker the group coordinator answers "loading" for a while; when this file
 * ran first on a fresh stack, replay exited 1 once (cause not captured). Wait it out first.
 */
async function coordinatorReady(): Promise<void> {
  const admin = kafka().admin({ retry: { retries: 0 } });
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.fetchOffsets({
          groupId: `${REPLAY_PREFIX}probe-${uniq()}`,
          topics: ['mis.mis.users'],
        });
        return;
      } catch (err) {
        if (
          attempt >= 120 ||
          !/coordinator is loading|coordinator not available/i.test(String(err))
        )
          throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } finally {
    await admin.disconnect();
  }
}

describe('secure stack: replay and verify under the least-privilege users', () => {
  let db: ConnectionPool;
  const users: number[] = [];

  beforeAll(async () => {
    requireSecureStack();
    db = mysqlPool();
    await coordinatorReady();
  });
  afterAll(async () => {
    if (users.length > 0) await db.query(sql`DELETE FROM users WHERE user_id IN (${users})`);
    await db.dispose();
  });

  describe('replay', () => {
    let session: Redis;
    let permissions: Redis;
    beforeAll(() => {
      session = redisDb(0);
      permissions = redisDb(1);
    });
    afterAll(async () => Promise.all([session.quit(), permissions.quit()]));

    it('re-applies the retained changes of a table and deletes its one-off group', async () => {
      const id = uniqId();
      users.push(id);
      const keys = { session: `session:user:${id}`, permissions: `permissions:user:${id}` };
      const before = await endOffset('mis.mis.users');
      const from = new Date(Date.now() - 2000);
      await db.query(
        sql`INSERT INTO users (user_id, username, use_yn) VALUES (${id}, ${`replay-${id}`}, 'Y')`,
      );
      await db.query(sql`UPDATE users SET use_yn = 'N' WHERE user_id = ${id}`);
      await waitFor(
        async () => (await endOffset('mis.mis.users')) >= before + 2,
        60_000,
        'the user changes in mis.mis.users',
      );
      // No service runs in this file: cached now, these stay until replay removes them.
      await session.set(keys.session, '{"user_id":1}', 'EX', 600);
      await permissions.set(keys.permissions, '{}', 'EX', 600);
      const groupsBefore = await groupsWithPrefix(REPLAY_PREFIX);

      const run = await runCommand(['replay', '--from', from.toISOString(), '--tables', 'users'], {
        MCS_GROUP_ID: 'mis-cache-sync',
        LOG_LEVEL: 'info',
      });
      console.log(`REPLAY exit ${run.status}: ${run.stdout.trim()}`);
      if (run.status !== 0) console.log(`REPLAY stderr:\n${run.stderr.slice(-3000)}`);
      expect(run.stderr).not.toMatch(/could not be deleted|AUTHORIZATION|denied/i);
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/^replayed [1-9]\d* event\(s\) from 1 partition\(s\)/);
      expect(await session.exists(keys.session)).toBe(0);
      expect(await permissions.exists(keys.permissions)).toBe(0);
      // its one-off group mis-cache-sync-replay-<time> is gone again
      expect(await groupsWithPrefix(REPLAY_PREFIX)).toEqual(groupsBefore);
    });

    it('--reset-group moves a stopped group back to the start point', async () => {
      const groupId = `${REPLAY_PREFIX}reset-test-${uniq()}`; // deletable by the service principal
      const run = await runCommand(
        ['replay', '--from', 'earliest', '--tables', 'users', '--reset-group'],
        { MCS_GROUP_ID: groupId },
      );
      console.log(`REPLAY --reset-group exit ${run.status}: ${run.stdout.trim()}`);
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(
        new RegExp(`^group ${groupId}: offsets of 1 partition\\(s\\) moved to earliest`),
      );
      const admin = kafka().admin();
      await admin.connect();
      try {
        const low = (await admin.fetchTopicOffsets('mis.mis.users'))[0]?.low;
        const [committed] = await admin.fetchOffsets({ groupId, topics: ['mis.mis.users'] });
        expect(committed?.partitions[0]?.offset).toBe(low);
        await admin.deleteGroups([groupId]);
      } finally {
        await admin.disconnect();
      }
    });
  });

  describe('verify', () => {
    let redis: Redis;
    const active = uniqId();
    const disabled = uniqId();
    const keys = [`permissions:user:${active}`, `permissions:user:${disabled}`];
    beforeAll(async () => {
      redis = redisDb(VERIFY_DB);
      users.push(active, disabled);
      await db.query(sql`INSERT INTO users (user_id, username, use_yn) VALUES
        (${active}, ${`verify-${active}`}, 'Y'), (${disabled}, ${`verify-${disabled}`}, 'N')`);
      // the active user's map is right (no grants: {}), the disabled user's must not exist
      for (const k of keys) await redis.set(k, '{}', 'EX', 600);
    });
    afterAll(async () => {
      await redis.del(...keys);
      await redis.quit();
    });

    const verifyArgs = ['verify', '--families', 'permissions', '--sample', '100'];
    const env = { MCS_REDIS_DB_PERMISSIONS: String(VERIFY_DB) };

    it("finds the stale key, as the verify user of MySQL and the service's Redis user", async () => {
      const run = await runCommand(verifyArgs, {
        ...env,
        MYSQL_URL: process.env.VERIFY_MYSQL_URL,
      });
      console.log(`VERIFY exit ${run.status}: ${run.stdout.trim()}`);
      expect(run.stdout).toMatch(/checked 2, consistent 1, stale 1, /);
      expect(run.stdout).toContain(
        `STALE DB ${VERIFY_DB}  permissions:user:${disabled}  (must not exist: no active user ${disabled})`,
      );
      expect(run.status).toBe(1); // stale share 50 % above --max-stale 0
      expect(run.stderr).not.toMatch(/denied|NOPERM/i);
    });

    it("is refused by the service's own MySQL user (no SELECT on users)", async () => {
      const run = await runCommand(verifyArgs, env);
      console.log(`VERIFY as the service user: exit ${run.status}`);
      expect(run.status).not.toBe(0);
      expect(`${run.stdout}${run.stderr}`).toMatch(/SELECT command denied .*users/);
    });
  });
});
