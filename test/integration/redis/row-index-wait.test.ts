/**
 * With MCS_REDIS_WAIT_REPLICAS the row index's writes are on the replica before the batch is
 * committed, like the deletes: WAIT covers only the connection it is sent on, and the index has
 * its own. On a real master and replica (scratch redis-servers of this test): a replica that
 * stops acknowledging (SIGSTOP) makes the index write fail as retryable REDIS_UNAVAILABLE, and
 * it succeeds once the replica acknowledges again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { createKeyspaceClient } from '../../../src/redis/clients';
import { RedisRowIndex, indexPrefix } from '../../../src/redis/row-index';
import { silentLogger } from '../../../src/telemetry/logger';
import { freePort, testConfig, uniq, waitFor } from '../../support/stack';

function redisServer(port: number, dir: string, replicaOf?: number): ChildProcess {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir];
  if (replicaOf !== undefined) args.push('--replicaof', '127.0.0.1', String(replicaOf));
  return spawn('redis-server', args, { stdio: 'ignore' });
}

describe('row index writes and MCS_REDIS_WAIT_REPLICAS (real master and replica)', () => {
  let dir: string;
  let master: ChildProcess;
  let replica: ChildProcess;
  let masterPort: number;
  let replicaPort: number;
  let probe: Redis;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mcs-wait-'));
    masterPort = await freePort();
    replicaPort = await freePort();
    master = redisServer(masterPort, path.join(dir));
    probe = new Redis({ port: masterPort, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    probe.on('error', () => undefined);
    await waitFor(async () => (await probe.ping().catch(() => '')) === 'PONG', 10_000, 'master');
    const replicaDir = mkdtempSync(path.join(dir, 'replica-'));
    replica = redisServer(replicaPort, replicaDir, masterPort);
    await waitFor(
      async () => /slave0:.*state=online/.test(await probe.info('replication')),
      20_000,
      'the replica online (initial sync done)',
      100,
    );
  });
  afterAll(async () => {
    if (replica?.pid) process.kill(replica.pid, 'SIGCONT');
    probe?.disconnect();
    for (const child of [replica, master]) {
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('a write waits for the replica: fails while it does not acknowledge, then goes through', async () => {
    const config = testConfig({ REDIS_URL: `redis://127.0.0.1:${masterPort}` });
    const client = createKeyspaceClient(config.redis, 0, silentLogger());
    await client.ready();
    const ns = `t${uniq()}.user_auth`;
    const index = new RedisRowIndex(client.port, { replicas: 1, timeoutMs: 300 });
    const write = (pk: string) =>
      index.write([{ ns, rows: [{ pk, v: 'b:f:1', row: { menu_id: 1 }, refs: ['menu_id:1'] }] }]);
    try {
      await write('1');
      const replicaClient = new Redis({ port: replicaPort, host: '127.0.0.1' });
      expect(await replicaClient.exists(`${indexPrefix(ns)}r:1`)).toBe(1); // on the replica already
      replicaClient.disconnect();

      process.kill(replica.pid as number, 'SIGSTOP'); // connected, not acknowledging
      await expect(write('2')).rejects.toMatchObject({
        code: 'REDIS_UNAVAILABLE',
        retryable: true,
        message: expect.stringMatching(/replicas did not acknowledge the batch within 300 ms/),
      });
      process.kill(replica.pid as number, 'SIGCONT');
      await write('2'); // the retry of the batch
    } finally {
      process.kill(replica.pid as number, 'SIGCONT');
      await client.close();
    }
  });
});
