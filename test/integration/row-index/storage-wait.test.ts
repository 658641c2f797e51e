/**
 * With MCS_REDIS_WAIT_REPLICAS the row index's writes are on the replica before the batch is
 * committed, like the deletes: WAIT covers only the connection it is sent on, and the index has
 * its own. On a real master and replica (scratch redis-servers of this test): a replica that
 * stops acknowledging (SIGSTOP) makes the index write fail as retryable REDIS_UNAVAILABLE, and
 * it succeeds once the replica acknowledges again.
 */
import { createKeyspaceClient } from '../../../src/redis/clients';
import { RedisRowIndex, indexPrefix } from '../../../src/row-index/storage';
import { silentLogger } from '../../../src/telemetry/logger';
import { startScratchRedis, type ScratchRedis } from '../../support/scratch-redis';
import { testConfig, uniq, waitFor } from '../../support/stack';

describe('row index writes and MCS_REDIS_WAIT_REPLICAS (real master and replica)', () => {
  let master: ScratchRedis;
  let replica: ScratchRedis;

  beforeAll(async () => {
    master = await startScratchRedis();
    replica = await startScratchRedis(['--replicaof', '127.0.0.1', String(master.port)]);
    await waitFor(
      async () => /slave0:.*state=online/.test(await master.probe.info('replication')),
      20_000,
      'the replica online (initial sync done)',
      100,
    );
  });
  afterAll(async () => {
    await replica?.stop();
    await master?.stop();
  });

  it('a write waits for the replica: fails while it does not acknowledge, then goes through', async () => {
    const config = testConfig({ REDIS_URL: `redis://127.0.0.1:${master.port}` });
    const client = createKeyspaceClient(config.redis, 0, silentLogger());
    await client.ready();
    const ns = `t${uniq()}.user_auth`;
    // A generous timeout where the replica acknowledges (a busy machine), a short one where not.
    const patient = new RedisRowIndex(client.port, { replicas: 1, timeoutMs: 10_000 });
    const hasty = new RedisRowIndex(client.port, { replicas: 1, timeoutMs: 300 });
    const write = (pk: string, index = patient) =>
      index.write([{ ns, rows: [{ pk, v: 'b:f:1', row: { menu_id: 1 }, refs: ['menu_id:1'] }] }]);
    try {
      await write('1');
      expect(await replica.probe.exists(`${indexPrefix(ns)}r:1`)).toBe(1); // on the replica already

      process.kill(replica.pid, 'SIGSTOP'); // connected, not acknowledging
      await expect(write('2', hasty)).rejects.toMatchObject({
        code: 'REDIS_UNAVAILABLE',
        retryable: true,
        message: expect.stringMatching(/replicas did not acknowledge the batch within 300 ms/),
      });
      process.kill(replica.pid, 'SIGCONT');
      await write('2'); // the retry of the batch
    } finally {
      process.kill(replica.pid, 'SIGCONT');
      await client.close();
    }
  });
});
