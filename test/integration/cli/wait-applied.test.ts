/**
 * `mis-cache-sync wait-applied` as a child process of the built CLI, against the real stack: exit
 * 0 once the write is applied (its keys gone right then), 1 on timeout, 2 on usage errors.
 */
import { execFile } from 'node:child_process';
import connect from '@databases/mysql';
import path from 'node:path';
import { useStack } from '../../support/harness';
import { buildService, ROOT as root } from '../../support/service-process';
import { sql, stackEnv, testConfig, uniqId } from '../../support/stack';

const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');

function waitApplied(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'node',
      [cli, 'wait-applied', ...args],
      { cwd: root, env: { ...process.env, MCS_APPLIED_TRACKING: 'true', LOG_LEVEL: 'warn' } },
      (err, stdout, stderr) => {
        const code = err ? Number((err as { code?: number }).code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

beforeAll(() => buildService());

describe('mis-cache-sync wait-applied', () => {
  const stack = useStack();
  const db1 = stack.redis(1);

  it.each([
    [[], /exactly one of gtid or binlog/],
    [['--gtid', '0-1-5', '--binlog', 'mysql-bin.000001:4'], /exactly one of gtid or binlog/],
    [['--gtid', 'yesterday'], /neither domain-server-seq/],
    [['--binlog', 'mysql-bin'], /is not <file>:<pos>/],
    [['--gtid', '0-1-5', '--timeout', 'soon'], /--timeout "soon" is not a duration/],
    [['--gtid', '0-1-5', '--bogus'], /unknown option/],
  ])('usage error %j: exit 2 with the reason', async (args, reason) => {
    const r = await waitApplied(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(reason);
  });

  it('a position never applied: exit 1 after the timeout, the answer on stdout', async () => {
    const r = await waitApplied('--gtid', '0-1-999999999', '--timeout', '300ms');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ applied: false, status: 'pending' });
  });

  it('after a permission change: exit 0 once applied, the key gone at that moment', async () => {
    await stack.startService(testConfig({ MCS_APPLIED_TRACKING: 'true' }));
    const { db } = stack;
    for (let i = 0; i < 5; i++) {
      const user = uniqId();
      await db.query(sql`INSERT INTO users (user_id, username) VALUES (${user}, ${`wa${user}`})`);
      await db1.set(`permissions:user:${user}`, 'cached', 'EX', 600);
      const gtid = await db.task(async (c) => {
        await c.query(sql`UPDATE users SET use_yn = 'N' WHERE user_id = ${user}`);
        const [row] = await c.query(sql`SELECT @@last_gtid AS gtid`);
        return String((row as { gtid: string }).gtid);
      });
      const r = await waitApplied('--gtid', gtid, '--timeout', '30s');
      expect(await db1.exists(`permissions:user:${user}`)).toBe(0);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ applied: true, position: gtid });
      await db.query(sql`DELETE FROM users WHERE user_id = ${user}`);
    }
  });

  it('binlog fallback: the position after a commit is applied once a later write is', async () => {
    await stack.startService(testConfig({ MCS_APPLIED_TRACKING: 'true' }));
    const { db } = stack;
    const user = uniqId();
    await db.query(sql`INSERT INTO users (user_id, username) VALUES (${user}, ${`wb${user}`})`);
    await db1.set(`permissions:user:${user}`, 'cached', 'EX', 600);
    await db.query(sql`UPDATE users SET use_yn = 'N' WHERE user_id = ${user}`);
    // the binlog end after the commit, read by a user allowed to (the application's is not)
    const monitor = connect({
      connectionString: stackEnv('MYSQL_URL').replace('//app:app@', '//cdc:cdc@'),
      bigIntMode: 'number',
    });
    const [status] = await monitor.query(sql`SHOW MASTER STATUS`).finally(() => monitor.dispose());
    const { File, Position } = status as { File: string; Position: number };
    const waiting = waitApplied('--binlog', `${File}:${Position}`, '--timeout', '30s');
    await db.query(sql`DELETE FROM users WHERE user_id = ${user}`);
    const r = await waiting;
    expect(await db1.exists(`permissions:user:${user}`)).toBe(0);
    expect(r.code).toBe(0);
  });
});
