/**
 * The row index's storage on real Redis: writes ordered by source version (a redelivered older
 * event never overwrites a newer entry), reverse sets following the row, deleted markers with a
 * TTL, the completeness marker, and reads of entries and reverse sets in one call.
 */
import type Redis from 'ioredis';
import { createKeyspaceClient } from '../../../src/redis/clients';
import { DELETED_TTL_S, RedisRowIndex, indexPrefix } from '../../../src/row-index/storage';
import { createLogger } from '../../../src/telemetry/logger';
import { redisDb, testConfig, uniq } from '../../support/stack';

describe('row index storage (Redis)', () => {
  const config = testConfig();
  const ns = `t${uniq()}.products`;
  const p = indexPrefix(ns);
  let raw: Redis;
  let client: ReturnType<typeof createKeyspaceClient>;
  let index: RedisRowIndex;

  beforeAll(async () => {
    raw = redisDb(config.redis.rowIndexDb);
    client = createKeyspaceClient(config.redis, config.redis.rowIndexDb, createLogger('silent'));
    await client.ready();
    index = new RedisRowIndex(client.port);
  });
  afterAll(async () => {
    const keys = await raw.keys(`${p.replace(/[{}]/g, '\\$&')}*`);
    if (keys.length > 0) await raw.del(...keys);
    await client.close();
    await raw.quit();
  });

  const write = (pk: string, v: string, row: Record<string, unknown> | null) =>
    index.write([
      {
        ns,
        rows: [{ pk, v, row, refs: row ? [`brand_id:${String(row.brand_id)}`] : [] }],
      },
    ]);

  it('orders writes by version and moves the reverse membership with the row', async () => {
    await write('1', 'b:f:0000000000000200', { category_id: 2, brand_id: 7 });
    await write('1', 'b:f:0000000000000100', { category_id: 1, brand_id: 6 }); // older: ignored
    const [res] = await index.read([
      {
        ns,
        pks: ['1', '2'],
        refs: [
          ['brand_id', '7'],
          ['brand_id', '6'],
        ],
      },
    ]);
    expect(res?.entries).toEqual([
      { v: 'b:f:0000000000000200', row: { category_id: 2, brand_id: 7 } },
      null,
    ]);
    expect(res?.refs[0]?.map((r) => r.pk)).toEqual(['1']);
    expect(res?.refs[1]).toEqual([]);
    expect(res?.complete).toBe(false);

    await write('1', 'b:f:0000000000000300', { category_id: 3, brand_id: 8 });
    expect(await raw.smembers(`${p}f:brand_id:7`)).toEqual([]);
    expect(await raw.smembers(`${p}f:brand_id:8`)).toEqual(['1']);
  });

  it('a delete leaves a marker with a TTL and leaves the reverse sets', async () => {
    await write('1', 'b:f:0000000000000400', null);
    expect(JSON.parse((await raw.get(`${p}r:1`)) ?? '{}')).toEqual({
      v: '00000000#b:f:0000000000000400', // epoch 0 (storage.ts)
      r: null,
      f: [],
    });
    const ttl = await raw.ttl(`${p}r:1`);
    expect(ttl).toBeGreaterThan(DELETED_TTL_S - 60);
    expect(await raw.scard(`${p}f:brand_id:8`)).toBe(0);
    // a redelivered older update does not bring the row back
    await write('1', 'b:f:0000000000000300', { category_id: 3, brand_id: 8 });
    const [res] = await index.read([{ ns, pks: ['1'], refs: [] }]);
    expect(res?.entries[0]?.row).toBeNull();
  });

  it('the completeness marker is set and cleared (truncate)', async () => {
    await index.write([{ ns, rows: [], complete: 'set' }]);
    expect((await index.read([{ ns, pks: [], refs: [] }]))[0]?.complete).toBe(true);
    await index.write([{ ns, rows: [], complete: 'clear' }]);
    expect((await index.read([{ ns, pks: [], refs: [] }]))[0]?.complete).toBe(false);
  });

  it('a row whose refs did not change keeps its reverse sets; refs of several columns move one by one', async () => {
    const rows = (v: string, refs: string[]) =>
      index.write([{ ns, rows: [{ pk: '5', v, row: { brand_id: 1 }, refs }] }]);
    await rows('b:f:0000000000000100', ['brand_id:1', 'category_id:1']);
    await rows('b:f:0000000000000200', ['brand_id:1', 'category_id:1']); // same refs
    expect(await raw.smembers(`${p}f:brand_id:1`)).toEqual(['5']);
    expect(await raw.smembers(`${p}f:category_id:1`)).toEqual(['5']);
    await rows('b:f:0000000000000300', ['brand_id:1', 'category_id:2']);
    expect(await raw.smembers(`${p}f:brand_id:1`)).toEqual(['5']);
    expect(await raw.smembers(`${p}f:category_id:1`)).toEqual([]);
    expect(await raw.smembers(`${p}f:category_id:2`)).toEqual(['5']);
    await rows('b:f:0000000000000400', []);
    expect(await raw.scard(`${p}f:brand_id:1`)).toBe(0);
    expect(await raw.scard(`${p}f:category_id:2`)).toBe(0);
  });

  it('a write of many rows at once (a re-snapshot) stores each and sets the completeness marker', async () => {
    const many = Array.from({ length: 2500 }, (_, i) => ({
      pk: `m${i}`,
      v: 'b:f:0000000000000100',
      row: { brand_id: 9 },
      refs: ['brand_id:9'],
    }));
    await index.write([{ ns: `${ns}m`, rows: many, complete: 'set' }]);
    const [res] = await index.read([{ ns: `${ns}m`, pks: ['m0', 'm2499'], refs: [] }]);
    expect(res?.complete).toBe(true);
    expect(res?.entries.map((e) => e?.row)).toEqual([{ brand_id: 9 }, { brand_id: 9 }]);
    const pm = indexPrefix(`${ns}m`);
    expect(await raw.scard(`${pm}f:brand_id:9`)).toBe(2500);
    const keys = await raw.keys(`${pm.replace(/[{}]/g, '\\$&')}*`);
    await raw.del(...keys);
  });
});
