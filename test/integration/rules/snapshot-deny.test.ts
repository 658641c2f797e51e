/**
 * Snapshot reads that deny, on the real stack: with MCS_SNAPSHOT_INVALIDATES off (the default),
 * snapshot reads (`op: r`, as a re-snapshot after a binlog gap delivers them) of a disabled user
 * and of a revoked user_auth row drop the user's session and permission map; a snapshot read of
 * an active user leaves its keys alone. The records are produced onto the Debezium topics in the
 * connector's own envelope (a re-snapshot of the stack's connector would re-read every table).
 */
import { Partitioners } from 'kafkajs';
import type { RunningService } from '../../../src/app/service';
import { useStack } from '../../support/harness';
import { kafka, testConfig, uniqId, waitFor } from '../../support/stack';

describe('snapshot reads of rows in a denying state', () => {
  const stack = useStack();
  let service: RunningService;
  const config = testConfig({ MCS_SECOND_PASS_DELAY_MS: '0' });
  const db0 = stack.redis(config.redis.db.session);
  const db1 = stack.redis(config.redis.db.permissions);

  beforeAll(async () => {
    service = await stack.startService(config);
  });

  const snapshotRead = (table: string, after: Record<string, unknown>) => ({
    before: null,
    after,
    source: {
      connector: 'mariadb',
      name: 'mis',
      ts_ms: Date.now(),
      snapshot: 'true',
      db: 'mis',
      table,
      file: 'mariadb-bin.000001',
      pos: 4,
    },
    op: 'r',
    ts_ms: Date.now(),
  });

  it('a disabled user and a revoked permission lose their keys; an active user keeps them', async () => {
    expect(config.rules.snapshotInvalidates).toBe(false);
    const disabled = uniqId();
    const revoked = disabled + 1;
    const active = disabled + 2;
    const keys = (id: number) =>
      [
        [db0, `session:user:${id}`],
        [db1, `permissions:user:${id}`],
      ] as const;
    for (const id of [disabled, revoked, active])
      for (const [c, k] of keys(id)) await c.set(k, 'cached', 'EX', 600);
    const producer = kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const send = (table: string, after: Record<string, unknown>) =>
      producer.send({
        topic: `${config.kafka.topicPrefix}.mis.${table}`,
        messages: [{ value: JSON.stringify(snapshotRead(table, after)) }],
      });
    await send('users', { user_id: active, username: `a${active}`, dept_id: 1, use_yn: 'Y' });
    await send('users', { user_id: disabled, username: `d${disabled}`, dept_id: 1, use_yn: 'N' });
    await send('user_auth', {
      auth_id: revoked,
      user_id: revoked,
      menu_id: 1,
      create_yn: 'N',
      read_yn: 'N',
      update_yn: 'N',
      delete_yn: 'N',
      use_yn: 'Y',
    });
    await producer.disconnect();
    try {
      await waitFor(
        async () => {
          if (service.counters.get('events', 'users:r') < 2) return false; // both user reads handled
          for (const id of [disabled, revoked])
            for (const [c, k] of keys(id)) if ((await c.exists(k)) === 1) return false;
          return true;
        },
        20_000,
        'the denying snapshot reads to drop the keys',
      );
      // the active user's snapshot read was handled too, and kept its keys
      for (const [c, k] of keys(active)) expect(await c.exists(k)).toBe(1);
    } finally {
      for (const id of [disabled, revoked, active]) for (const [c, k] of keys(id)) await c.del(k);
    }
  });
});
