/** The real entry point as a child process: configuration errors and graceful shutdown. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { buildService, ROOT as root, spawnService } from '../../support/service-process';
import { uniq, waitFor } from '../../support/stack';

const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');

beforeAll(() => buildService());

describe('mis-cache-sync CLI', () => {
  it('stops at start with exit 2 and one message naming a bad setting', () => {
    let status: number | null = null;
    let stderr = '';
    try {
      execFileSync('node', [cli, 'run'], {
        cwd: root,
        env: { ...process.env, MCS_SCAN_COUNT: 'lots' },
        stdio: 'pipe',
      });
    } catch (err) {
      const e = err as { status: number; stderr: Buffer };
      status = e.status;
      stderr = e.stderr.toString();
    }
    expect(status).toBe(2);
    expect(stderr).toMatch(
      /configuration error: MCS_SCAN_COUNT \(redis.scanCount\): must be a whole number/,
    );
  });

  it('runs, and on SIGTERM finishes, commits and exits 0 within the bound', async () => {
    const { child, output, exited } = spawnService({
      MCS_GROUP_ID: `mcs-test-cli-${uniq()}`,
      LOG_LEVEL: 'info',
      MCS_HTTP_PORT: '0',
    });
    await waitFor(
      () => output().includes('"consuming change events"'),
      60_000,
      'the service to start',
    );
    const stopAt = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - stopAt).toBeLessThan(15_000);
    const out = output();
    expect(out).toContain('"stopped"');
    // the build carries every rule file, YAML ones included
    expect(out).toMatch(
      /"tables":\["brands","departments","menus","products","serials","trade_orders","user_auth","users"\]/,
    );
    expect(out).not.toMatch(/"level":(50|60)/); // no error or fatal lines
  });

  it('on SIGTERM while still waiting for Redis at start, exits at once', async () => {
    const { child, output, exited } = spawnService({
      REDIS_URL: 'redis://127.0.0.1:40812', // nothing listens there (this engineer's port range)
      MCS_GROUP_ID: `mcs-test-cli-${uniq()}`,
      LOG_LEVEL: 'info',
      MCS_HTTP_PORT: '0',
    });
    await waitFor(() => output().includes('redis unavailable at start'), 30_000, 'the Redis wait');
    const stopAt = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const tookMs = Date.now() - stopAt;
    console.log(`CLI SIGTERM during the Redis wait: exited in ${tookMs} ms`);
    expect(tookMs).toBeLessThan(3_000); // was ~15 s (the stop bound)
    expect(output()).toContain('"stopped before the start completed"');
  });
});
