/**
 * dead-letters on the real stack, through the command line (in-process `runCli`): a rule reading
 * a renamed column (`{uid}`, now `user_id`) dead-letters a user's events; `list` shows them with
 * origin, table and reason; `redrive` with the rule still broken reports them still failing and
 * keeps them pending (their key deleted by the target's pattern meanwhile); with the rule fixed it deletes their key and leaves nothing pending.
 * Own rules folder, dead-letter topic, consumer group and session DB (6).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ConnectionPool } from '@databases/mysql';
import type Redis from 'ioredis';
import { runCli } from '../../../src/cli/program';
import { startService, type RunningService } from '../../../src/app/service';
import { createLogger } from '../../../src/telemetry/logger';
import { loadConfig } from '../../../src/config/config';
import { mysqlPool, redisDb, sql, uniq, uniqId, waitFor } from '../../support/stack';

const rule = (column: string) => `table: users
targets:
  - key: session:user:{${column}}
    family: session
    action: delete
`;

describe('dead-letters list and redrive', () => {
  let db: ConnectionPool;
  let session: Redis;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const id = uniqId();

  beforeAll(() => {
    db = mysqlPool();
    session = redisDb(6);
    dir = mkdtempSync(path.join(tmpdir(), 'mcs-dlq-rules-'));
    const tag = uniq();
    env = {
      ...process.env,
      MCS_CONSUMERS_DIR: dir,
      MCS_DLQ_TOPIC: `mcs-test-dlq-${tag}`,
      MCS_GROUP_ID: `mcs-test-dlq-${tag}`,
      MCS_MONITOR_GROUP_ID: `mcs-test-dlq-monitor-${tag}`,
      MCS_REDIS_DB_SESSION: '6',
      MCS_REDIS_DB_PERMISSIONS: '6',
      MCS_FROM_BEGINNING: 'false',
      MCS_ENSURE_TOPICS: 'true',
      MCS_SECOND_PASS_DELAY_MS: '0',
      MCS_HTTP_PORT: '0',
      MCS_STATS_INTERVAL_MS: '0',
      LOG_LEVEL: 'warn',
    };
  });
  afterAll(async () => {
    await db.query(sql`DELETE FROM users WHERE user_id = ${id}`);
    await session.del(`session:user:${id}`);
    await Promise.all([db.dispose(), session.quit()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = async (...args: string[]) => {
    let out = '';
    let err = '';
    const status = await runCli(args, { out: (t) => (out += t), err: (t) => (err += t), env });
    return { status, out, err };
  };

  it('lists the dead letters of a broken rule; redrive after the fix deletes their keys', async () => {
    writeFileSync(path.join(dir, 'users.yaml'), rule('uid')); // the column was renamed to user_id
    const config = loadConfig({ env });
    let service: RunningService | undefined = await startService(config, createLogger('warn'));
    try {
      await new Promise((r) => setTimeout(r, 1500)); // the new group's start offset is resolved
      await db.query(sql`INSERT INTO users (user_id, username) VALUES (${id}, ${`dlq-${id}`})`);
      await db.query(sql`UPDATE users SET dept_id = 2 WHERE user_id = ${id}`);
      let last = { status: 0, out: '', err: '' };
      await waitFor(
        async () => {
          last = await cli('dead-letters', 'list', '--table', 'users');
          return /^2 dead letter\(s\)/m.test(last.out);
        },
        30_000,
        'two dead letters',
        500,
      ).catch((e: Error) => {
        throw new Error(`${e.message}; last list: ${JSON.stringify(last)}`);
      });
    } finally {
      await service?.stop();
      service = undefined;
    }

    const listed = await cli('dead-letters', 'list', '--reason', 'FIELD_INVALID');
    expect(listed.status).toBe(0);
    const lines = listed.out.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines.slice(0, 2)) {
      expect(line).toMatch(/^\S+Z {2}mis\.mis\.users\/0@\d+ {2}users {2}FIELD_INVALID {2}/);
      expect(line).toMatch(/uid/);
    }
    expect(lines[2]).toBe(`2 dead letter(s) on ${env.MCS_DLQ_TOPIC} matching; 2 pending redrive`);
    expect((await cli('dead-letters', 'list', '--reason', 'UNKNOWN_TABLE')).out).toMatch(
      /^0 dead letter/,
    );
    expect((await cli('dead-letters', 'list', '--since', '2999-01-01T00:00:00Z')).out).toMatch(
      /^0 dead letter/,
    );

    // The key the events should have deleted, cached after them.
    await session.set(`session:user:${id}`, 'stale', 'EX', 600);

    // Rule still broken: both still fail, are reported, and stay pending.
    const again = await cli('dead-letters', 'redrive');
    expect(again.status).toBe(1);
    expect(again.out).toMatch(/2 pending dead letter\(s\), 0 applied .* 2 still failing/);
    expect(
      again.out.match(/STILL FAILING mis\.mis\.users\/0@\d+ {2}users {2}FIELD_INVALID/g),
    ).toHaveLength(2);
    // still failing, yet never stale: the target's pattern (session:user:*) deleted the key
    expect(await session.exists(`session:user:${id}`)).toBe(0);
    expect((await cli('dead-letters', 'list')).out).toMatch(
      /4 dead letter\(s\) .*; 2 pending redrive/,
    );
    await session.set(`session:user:${id}`, 'stale', 'EX', 600);

    // Dry run with the fix: lists the key, touches nothing, commits nothing.
    writeFileSync(path.join(dir, 'users.yaml'), rule('user_id'));
    const dry = await cli('dead-letters', 'redrive', '--dry-run');
    expect(dry.status).toBe(0);
    expect(dry.out).toContain(`DB 6  delete         session:user:${id}`);
    expect(await session.exists(`session:user:${id}`)).toBe(1);

    const fixed = await cli('dead-letters', 'redrive');
    expect(fixed.status).toBe(0);
    expect(fixed.out).toMatch(
      /2 pending dead letter\(s\), 2 applied .*1 key\(s\) deleted.*, 0 still failing/,
    );
    expect(await session.exists(`session:user:${id}`)).toBe(0);
    expect((await cli('dead-letters', 'list')).out).toMatch(
      /4 dead letter\(s\) .*; 0 pending redrive/,
    );
    const nothing = await cli('dead-letters', 'redrive');
    expect(nothing.out).toMatch(/0 pending dead letter\(s\)/);
  });
});
