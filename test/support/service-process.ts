/**
 * The service as a real child process (`node dist/src/cli/main.js run`), for tests that kill,
 * signal or restart it. Build once with `buildService()`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { waitFor } from './stack';

export const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');

export function buildService(): void {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
}

export interface ServiceProcess {
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  exited: Promise<number | null>;
}

/** `mis-cache-sync run` as a child process (`env` over this process's), its output collected. */
export function spawnService(env: Record<string, string>): ServiceProcess {
  const child = spawn('node', [CLI, 'run'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** Starts the service and resolves once it consumes (its log says so). */
export async function startServiceProcess(
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<ServiceProcess> {
  const proc = spawnService({
    LOG_LEVEL: 'info',
    MCS_STATS_INTERVAL_MS: '0',
    MCS_HTTP_PORT: '0',
    ...env,
  });
  let gone = false;
  void proc.exited.then(() => (gone = true));
  await waitFor(
    () => {
      if (gone) throw new Error(`service exited during start:\n${proc.output().slice(-3000)}`);
      return proc.output().includes('"consuming change events"');
    },
    timeoutMs,
    'the service to start',
  );
  return proc;
}

export async function killHard(proc: ServiceProcess): Promise<void> {
  proc.child.kill('SIGKILL');
  await proc.exited;
}

/**
 * Service processes of a describe block: builds the service before its tests; `start` is
 * `startServiceProcess` and remembers the process, and whatever is still running after a test
 * is killed (a failed expectation skips the test's own stop).
 */
export function useServiceProcesses(): {
  start(env: Record<string, string>, timeoutMs?: number): Promise<ServiceProcess>;
} {
  const started: ServiceProcess[] = [];
  beforeAll(() => buildService());
  afterEach(async () => {
    for (const proc of started.splice(0))
      if (proc.child.exitCode === null && proc.child.signalCode === null) await killHard(proc);
  });
  return {
    async start(env, timeoutMs) {
      const proc = await startServiceProcess(env, timeoutMs);
      started.push(proc);
      return proc;
    },
  };
}
