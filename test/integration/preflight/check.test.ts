/**
 * `mis-cache-sync check` (in-process `runCli`): passes on the local stack; names the fix for a
 * missing change topic (a rule for a table nobody created, MCS_ENSURE_TOPICS=false) and for
 * `binlog_row_image=MINIMAL` on a scratch MariaDB this test starts on 127.0.0.1:21811 (its own
 * datadir under the OS temp folder, stopped by pid and removed afterwards).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../../../src/cli/program';
import { uniq, waitFor } from '../../support/stack';

const SCRATCH_PORT = 21811;

async function check(env: NodeJS.ProcessEnv) {
  let out = '';
  const status = await runCli(['check'], {
    out: (t) => (out += t),
    err: () => undefined,
    env,
  });
  return { status, out };
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

describe('check', () => {
  it('passes on the local stack, a line per check', async () => {
    const r = await check(process.env);
    expect(r.out).not.toContain('✗');
    expect(r.out).toMatch(/✓ Kafka reachable at /);
    expect(r.out).toMatch(/✓ change topic mis\.mis\.users \(table users\): present/);
    expect(r.out).toMatch(/✓ connector \S+ RUNNING/);
    expect(r.out).toMatch(/✓ change event format .*: JSON with schemas, full Debezium envelope/);
    expect(r.out).toMatch(/✓ MySQL binlog_row_image=FULL: FULL/);
    expect(r.out).toMatch(/✓ \S+users\.(js|ts) targets\[0\]\.existsOnlyIf prepares: ok/);
    expect(r.out).toMatch(/✓ Redis logical DBs of every family exist/);
    expect(r.out).toMatch(/✓ Debezium heartbeats on __debezium-heartbeat\.mis: a heartbeat within/);
    expect(r.out).toMatch(/[✓!] row index server never evicts: DB \d+: maxmemory-policy \S+/);
    expect(r.out).toMatch(/[✓!] row index user_auth complete: /);
    expect(r.out).toMatch(/check passed/);
    expect(r.status).toBe(0);
  });

  it('names the fix for a missing change topic and exits 1', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mcs-check-rules-'));
    const table = `mcs_check_${uniq()}`;
    try {
      writeFileSync(
        path.join(dir, `${table}.yaml`),
        `table: ${table}\ntargets:\n  - key: temp:${table}:{id}\n    family: temp\n    action: delete\n`,
      );
      const r = await check({
        ...process.env,
        MCS_CONSUMERS_DIR: dir,
        MCS_ENSURE_TOPICS: 'false',
        CONNECT_URL: '',
      });
      expect(r.out).toContain(`✗ change topic mis.mis.${table} (table ${table}): missing`);
      expect(r.out).toContain(`fix: create it (kafka-topics.sh --create --topic mis.mis.${table})`);
      // the shipped tables' topics now have no rule in this folder
      expect(r.out).toMatch(/! tables with change topics but no rule: .*users/);
      expect(r.out).toMatch(/check FAILED: 1 ✗/);
      expect(r.status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('on a scratch MariaDB with binlog_row_image=MINIMAL', () => {
    let dir: string;
    let mariadb: ChildProcess | undefined;

    beforeAll(async () => {
      expect(await portOpen(SCRATCH_PORT)).toBe(false);
      dir = mkdtempSync(path.join(tmpdir(), 'mcs-check-mariadb-'));
      mkdirSync(path.join(dir, 'binlog'));
      const cnf = path.join(dir, 'my.cnf');
      writeFileSync(
        cnf,
        [
          '[client-server]',
          `port=${SCRATCH_PORT}`,
          `socket=${dir}/mariadbd.sock`,
          '[mariadbd]',
          'user=root',
          `datadir=${dir}/data`,
          `pid-file=${dir}/mariadbd.pid`,
          `log-error=${dir}/mariadb.log`,
          'bind-address=127.0.0.1',
          'skip-name-resolve',
          'server_id=7',
          `log_bin=${dir}/binlog/bin`,
          'binlog_format=ROW',
          'binlog_row_image=MINIMAL',
          'innodb_buffer_pool_size=16M',
          'performance_schema=OFF',
          '',
        ].join('\n'),
      );
      const env = { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` };
      execFileSync(
        'mariadb-install-db',
        [
          `--defaults-file=${cnf}`,
          '--user=root',
          '--auth-root-authentication-method=normal',
          '--skip-test-db',
        ],
        { stdio: 'ignore', env },
      );
      mariadb = spawn('mariadbd', [`--defaults-file=${cnf}`], { stdio: 'ignore', env });
      await waitFor(() => portOpen(SCRATCH_PORT), 60_000, 'the scratch MariaDB', 200);
    });

    afterAll(async () => {
      if (mariadb?.pid && mariadb.exitCode === null) {
        const exited = new Promise((r) => mariadb?.once('exit', r));
        mariadb.kill('SIGTERM');
        await exited;
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('names the fix for binlog_row_image and exits 1', async () => {
      const r = await check({
        ...process.env,
        MYSQL_URL: `mysql://root@127.0.0.1:${SCRATCH_PORT}/mysql`,
        MCS_DATABASES: 'mis', // the topics' database, not the scratch server's
        CONNECT_URL: '',
      });
      expect(r.out).toContain('✓ MySQL binlog_format=ROW: ROW');
      expect(r.out).toContain('✗ MySQL binlog_row_image=FULL: MINIMAL');
      expect(r.out).toContain(
        "fix: SET GLOBAL binlog_row_image='FULL' and binlog_row_image=FULL under [mysqld] in my.cnf",
      );
      expect(r.status).toBe(1);
    });
  });
});
