/**
 * When the row index may say "complete" (src/row-index/storage.ts): never once an entry can be
 * gone. On real Redis: a server of this test's own under `allkeys-lru` memory pressure evicts
 * cold index entries (written once, rarely read); and a table spread over two partitions whose
 * snapshot `last` record is processed while the other partition still carries snapshot rows.
 * Either way a menu rename must still reach every holder's keys (exact, or the family's pattern).
 */
import { createKeyspaceClient } from '../../../src/redis/clients';
import type { KeyOp } from '../../../src/rules/ops';
import { buildRowModel } from '../../../src/row-index/model';
import { resolveRows, type RowEvent } from '../../../src/row-index/resolve';
import { RedisRowIndex, indexPrefix } from '../../../src/row-index/storage';
import { silentLogger } from '../../../src/telemetry/logger';
import { planOptions, shippedRules } from '../../support/rules';
import { startScratchRedis, type ScratchRedis } from '../../support/scratch-redis';
import { testConfig, uniq } from '../../support/stack';

const PK = new Map([
  ['user_auth', ['auth_id']],
  ['menus', ['menu_id']],
]);

function context(prefix: string, partitions = 1) {
  const model = buildRowModel(shippedRules, { database: 'mis', primaryKeys: PK, edges: [] });
  return {
    ...planOptions(),
    rules: shippedRules,
    model,
    topicPrefix: prefix,
    partitionsOf: () => partitions,
  };
}

function authRow(prefix: string, id: number, partition: number, snapshot: string): RowEvent {
  return {
    place: { topic: `${prefix}.mis.user_auth`, partition, offset: String(id) },
    table: 'user_auth',
    event: {
      op: 'r',
      before: null,
      after: { auth_id: id, user_id: 10_000 + id, menu_id: 9, use_yn: 'Y', read_yn: 'Y' },
      source: { snapshot },
    },
    key: { auth_id: id },
    version: 'p:00000000000000000001:00000000000000000100:0000000000',
  };
}

function menuRename(prefix: string): RowEvent {
  return {
    place: { topic: `${prefix}.mis.menus`, partition: 0, offset: '1' },
    table: 'menus',
    event: {
      op: 'u',
      before: { menu_id: 9, code: 'a', name: 'n', sort: 1, use_yn: 'Y' },
      after: { menu_id: 9, code: 'b', name: 'n', sort: 1, use_yn: 'Y' },
      source: {},
    },
    key: { menu_id: 9 },
    version: 'p:00000000000000000001:00000000000000000900:0000000000',
  };
}

/** The holders whose permission map the operations do not reach. */
function missed(ops: readonly KeyOp[], holders: readonly number[]): number[] {
  if (ops.some((o) => o.action === 'pattern-delete' && o.key === 'permissions:user:*')) return [];
  const exact = new Set(ops.filter((o) => o.action === 'delete').map((o) => o.key));
  return holders.filter((u) => !exact.has(`permissions:user:${u}`));
}

describe('row index completeness', () => {
  let redis: ScratchRedis;
  let client: ReturnType<typeof createKeyspaceClient>;
  let index: RedisRowIndex;

  beforeAll(async () => {
    redis = await startScratchRedis(['--maxmemory', '3mb', '--maxmemory-policy', 'allkeys-lru']);
    const config = testConfig({ REDIS_URL: `redis://127.0.0.1:${redis.port}` });
    client = createKeyspaceClient(config.redis, 4, silentLogger());
    await client.ready();
    index = new RedisRowIndex(client.port);
  });
  afterAll(async () => {
    await client?.close();
    await redis?.stop();
  });

  async function indexSnapshot(rows: RowEvent[], prefix: string, partitions = 1) {
    const res = await resolveRows(rows, context(prefix, partitions), index);
    await index.write(res.writes);
  }

  it('entries evicted under allkeys-lru: the index is no longer complete', async () => {
    const prefix = `t${uniq()}`;
    const ids = Array.from({ length: 400 }, (_, i) => i + 1);
    for (let i = 0; i < ids.length; i += 100) {
      const chunk = ids.slice(i, i + 100);
      await indexSnapshot(
        chunk.map((id) => authRow(prefix, id, 0, id === ids.length ? 'last' : 'true')),
        prefix,
      );
    }
    const before = await resolveRows([menuRename(prefix)], context(prefix), index);
    expect(
      missed(
        before.ops,
        ids.map((i) => 10_000 + i),
      ),
    ).toEqual([]);
    expect(before.fallbacks).toEqual([]); // complete, all holders known: exact deletes

    // Cache values in another logical DB push the cold index entries out; the service reads
    // its completeness marker on every batch (kept warm here the same way).
    const cache = redis.probe.duplicate();
    await cache.select(1);
    const big = 'x'.repeat(50_000);
    const db4 = redis.probe.duplicate();
    await db4.select(4);
    const marker = `${indexPrefix(`${prefix}.user_auth`)}complete`;
    let n = 0;
    while ((await db4.dbsize()) > 400 && n < 5_000) {
      await cache.set(`stats:pressure:${n++}`, big);
      await db4.get(marker);
    }
    expect(await db4.exists(marker)).toBe(1);
    expect(await db4.dbsize()).toBeLessThanOrEqual(400); // entries really evicted
    cache.disconnect();
    db4.disconnect();

    const after = await resolveRows([menuRename(prefix)], context(prefix), index);
    expect(
      missed(
        after.ops,
        ids.map((i) => 10_000 + i),
      ),
    ).toEqual([]);
  });

  it('a snapshot over two partitions: complete only after both partitions passed it', async () => {
    const prefix = `t${uniq()}`;
    // Partition 0 carries the snapshot's `last`; partition 1's rows are not processed yet.
    await indexSnapshot([authRow(prefix, 1, 0, 'true'), authRow(prefix, 3, 0, 'last')], prefix, 2);
    const res = await resolveRows([menuRename(prefix)], context(prefix, 2), index);
    expect(missed(res.ops, [10_001, 10_002, 10_003])).toEqual([]); // 10_002 sits on partition 1

    // Partition 1: its snapshot row, then a streamed change: now every holder is known.
    const streamed = authRow(prefix, 4, 1, 'false');
    await indexSnapshot(
      [authRow(prefix, 2, 1, 'true'), { ...streamed, event: { ...streamed.event!, op: 'c' } }],
      prefix,
      2,
    );
    const done = await resolveRows([menuRename(prefix)], context(prefix, 2), index);
    expect(done.fallbacks).toEqual([]);
    expect(missed(done.ops, [10_001, 10_002, 10_003, 10_004])).toEqual([]);
  });
});
