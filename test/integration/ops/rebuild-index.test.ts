/**
 * `rebuild-index` on the real stack: a row index no snapshot completed (a topic prefix of this
 * test's own, so the index is empty, as after `snapshot.mode=no_data`) answers a menu rename with
 * family-wide patterns; rebuilt from MariaDB it is complete and names the menu's holders exactly.
 */
import { indexPrefix } from '../../../src/row-index/storage';
import { rebuildIndex } from '../../../src/ops/rebuild-index';
import { openRowIndex } from '../../../src/row-index/open';
import { resolveRows, type RowEvent } from '../../../src/row-index/resolve';
import { sql } from '@databases/mysql';
import { silentLogger } from '../../../src/telemetry/logger';
import { planOptions, shippedRules } from '../../support/rules';
import { mysqlPool, redisDb, testConfig, uniq } from '../../support/stack';

describe('rebuild-index', () => {
  const prefix = `t${uniq()}`;
  const config = testConfig({ TOPIC_PREFIX: prefix });

  afterAll(async () => {
    const raw = redisDb(config.redis.rowIndexDb);
    const keys = await raw.keys(`${indexPrefix(`${prefix}.`).replace(/[{}]/g, '\\$&')}*`);
    if (keys.length > 0) await raw.del(...keys);
    await raw.quit();
  });

  it('completes the index of user_auth from MySQL: the holders of a menu exactly', async () => {
    const pool = mysqlPool();
    const rows = (await pool.query(
      sql`SELECT menu_id, user_id FROM user_auth ORDER BY menu_id`,
    )) as { menu_id: number; user_id: number }[];
    const total = (await pool.query(sql`SELECT COUNT(*) AS n FROM user_auth`)) as { n: number }[];
    await pool.dispose();
    const menu = rows[0]?.menu_id as number;
    const holders = rows.filter((r) => r.menu_id === menu).map((r) => r.user_id);
    expect(holders.length).toBeGreaterThan(0);
    const rename: RowEvent = {
      place: { topic: `${prefix}.mis.menus`, partition: 0, offset: '1' },
      table: 'menus',
      event: {
        op: 'u',
        before: { menu_id: menu, code: 'a', name: 'n', sort: 1, use_yn: 'Y' },
        after: { menu_id: menu, code: 'b', name: 'n', sort: 1, use_yn: 'Y' },
        source: {},
      },
      key: { menu_id: menu },
      version: 'p:00000000000000000001:00000000000000000900:0000000000',
    };
    const opened = await openRowIndex(config, shippedRules, silentLogger());
    if (!opened) throw new Error('no row index');
    const ctx = { ...planOptions(), rules: shippedRules, model: opened.model, topicPrefix: prefix };
    try {
      const before = await resolveRows([rename], ctx, opened.index);
      expect(before.reasons).toContain('related-unknown');
      expect((await opened.state()).find((t) => t.table === 'user_auth')?.complete).toBe(false);

      const report = await rebuildIndex({ config, rules: shippedRules, logger: silentLogger() }, [
        'user_auth',
      ]);
      expect(report).toEqual([{ table: 'user_auth', rows: Number(total[0]?.n), complete: true }]);

      const after = await resolveRows([rename], ctx, opened.index);
      expect(after.fallbacks).toEqual([]);
      const keys = after.ops.map((o) => `${o.action} ${o.key}`).sort();
      expect(keys).toEqual(
        holders.flatMap((u) => [`delete permissions:user:${u}`, `delete session:user:${u}`]).sort(),
      );
    } finally {
      await opened.close();
    }
  });

  it('names a table the index does not keep', async () => {
    await expect(
      rebuildIndex({ config, rules: shippedRules, logger: silentLogger() }, ['departments']),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/departments/),
    });
  });
});
