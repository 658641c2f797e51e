/**
 * A redis-server of a test's own (port, data dir, arguments), for what the shared stack must not
 * be made into: too few DBs, a replica to stop. Started answering PING; `stop()` ends it (and
 * resumes it first if the test stopped it with SIGSTOP) and removes its dir.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { freePort, waitFor } from './stack';

export interface ScratchRedis {
  readonly port: number;
  readonly pid: number;
  /** A client of its own (no retries), for set-up and checks; closed by stop(). */
  readonly probe: Redis;
  stop(): Promise<void>;
}

export async function startScratchRedis(args: readonly string[] = []): Promise<ScratchRedis> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcs-redis-'));
  const port = await freePort();
  const base = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = spawn('redis-server', [...base, '--dir', dir, ...args], { stdio: 'ignore' });
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  probe.on('error', () => undefined);
  await waitFor(
    async () => (await probe.ping().catch(() => '')) === 'PONG',
    10_000,
    `the scratch redis-server on ${port}`,
    50,
  );
  return {
    port,
    pid: child.pid as number,
    probe,
    async stop() {
      probe.disconnect();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGCONT');
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
