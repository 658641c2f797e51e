/**
 * Handles on the secure stack (STACK_SECURE=1) for tests: its admin credentials (Redis ACL
 * admin, MariaDB root on the socket), a second throwaway CA that signed nothing the stack uses,
 * and the service run as a child process with a changed setting.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { ROOT } from './service-process';
import { stackEnv } from './stack';

export function requireSecureStack(): void {
  if (process.env.STACK_SECURE !== '1') {
    throw new Error('these tests need the secure stack: npm run test:secure (STACK_SECURE=1)');
  }
}

export function stackSecret(name: string): string {
  const dir = process.env.STACK_SECRETS_DIR;
  if (!dir) throw new Error('STACK_SECRETS_DIR is not set: the secure stack did not start');
  return readFileSync(path.join(dir, name), 'utf8').trim();
}

/** The stack's Redis admin (the ACL user stack-admin), over TLS. */
export function redisAdmin(db = 0): Redis {
  const url = new URL(stackEnv('REDIS_URL'));
  url.username = 'stack-admin';
  url.password = stackSecret('redis-admin');
  return new Redis(url.toString(), {
    db,
    maxRetriesPerRequest: 1,
    tls: { ca: readFileSync(process.env.MCS_REDIS_TLS_CA_FILE ?? '', 'utf8') },
  });
}

/** SQL as MariaDB's root on the stack's unix socket (the only way root gets in). */
export function mysqlRoot(statements: string): string {
  const defaults = path.join(stackEnv('STACK_DIR' as 'MYSQL_URL'), 'mariadb', 'my.cnf');
  return execFileSync(
    'mariadb',
    [`--defaults-file=${defaults}`, '-uroot', '--protocol=socket', '-N', 'mis', '-e', statements],
    { encoding: 'utf8' },
  );
}

/** A CA of its own (and a directory to remove), trusted by nothing on the stack. */
export function otherCa(): { file: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcs-other-ca-'));
  const file = path.join(dir, 'other-ca.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=not the stack CA',
      '-keyout',
      path.join(dir, 'other-ca.key'),
      '-out',
      file,
    ],
    { stdio: 'ignore' },
  );
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface StartAttempt {
  /** Exit code, or null when it was still running at the deadline (then it was killed). */
  readonly status: number | null;
  readonly output: string;
  readonly ms: number;
}

/**
 * Runs `mis-cache-sync run` with the secure stack's settings changed by `env` (a value of
 * undefined removes the setting) and waits for it to exit, up to `deadlineMs`.
 */
export function tryStart(
  env: Record<string, string | undefined>,
  deadlineMs = 30_000,
): Promise<StartAttempt> {
  const defaults = {
    LOG_LEVEL: 'debug',
    MCS_STATS_INTERVAL_MS: '0',
    MCS_HTTP_PORT: '0',
    MCS_OUTAGE_REMINDER_MS: '100',
  };
  return runCommand(['run'], { ...defaults, ...env }, deadlineMs).then((r) => ({
    status: r.status,
    output: r.output,
    ms: r.ms,
  }));
}

export interface CommandRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr as they arrived. */
  readonly output: string;
  readonly ms: number;
}

/**
 * Runs a `mis-cache-sync` command as the real CLI (a child process) with the secure stack's
 * settings changed by `env` (undefined removes one), from a folder without a .stack/env (only
 * what is passed counts), killed at `deadlineMs`.
 */
export function runCommand(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  deadlineMs = 120_000,
): Promise<CommandRun> {
  const merged: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn' };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete merged[k];
    else merged[k] = v;
  }
  const started = Date.now();
  const child = spawn('node', [path.join(ROOT, 'dist', 'src', 'cli', 'main.js'), ...args], {
    cwd: os.tmpdir(),
    env: merged,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let output = '';
  child.stdout.on('data', (d) => ((stdout += d), (output += d)));
  child.stderr.on('data', (d) => ((stderr += d), (output += d)));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ status: code, stdout, stderr, output, ms: Date.now() - started });
    });
  });
}
