/**
 * Secure stack: the foreign-key graph the service reads at start (information_schema) under its
 * least-privilege MySQL user. MariaDB lists only the keys of tables the user holds a privilege
 * on; with SELECT on the loaders' tables alone, a cascade into another ruled table (trade_orders)
 * and the primary keys of users, menus, … would be invisible. The stack grants REFERENCES on the
 * database (reads no row): the service's graph equals the one the application's user sees, and
 * a user without that grant is shown to miss the edge.
 */
import connect, { type ConnectionPool } from '@databases/mysql';
import { readSchemaGraph, type SchemaGraph } from '../../src/row-index/fk-graph';
import { withTls } from '../../src/mysql/loader';
import { describeForeignKeys } from '../../src/row-index/open';
import { loadRules } from '../../src/rules/registry';
import { createLogger } from '../../src/telemetry/logger';
import { mysqlRoot, requireSecureStack } from '../support/secure';
import { appMysqlUrl, stackEnv, sql, testConfig, uniq } from '../support/stack';

const TAG = uniq();
const CASCADE = `fk_secure_orders_brand_${TAG}`;
const SET_NULL = `fk_secure_users_dept_${TAG}`;

function pool(url: string): ConnectionPool {
  const ca = process.env.MCS_MYSQL_TLS_CA_FILE ?? '';
  return connect({ connectionString: withTls(url, { enabled: true, caFile: ca }), poolSize: 1 });
}

async function graphAs(url: string): Promise<SchemaGraph> {
  const p = pool(url);
  try {
    return await readSchemaGraph(p, 'mis');
  } finally {
    await p.dispose();
  }
}

const edgeNames = (g: SchemaGraph) => g.edges.map((e) => e.name).sort();

describe('secure stack: the FK graph under the least-privilege MySQL user', () => {
  beforeAll(() => {
    requireSecureStack();
    // Existing rows need not satisfy the keys; the constraints live only while this file runs.
    mysqlRoot(`SET foreign_key_checks = 0;
      ALTER TABLE trade_orders ADD CONSTRAINT ${CASCADE} FOREIGN KEY (brand_id) REFERENCES brands (brand_id) ON DELETE CASCADE;
      ALTER TABLE users ADD CONSTRAINT ${SET_NULL} FOREIGN KEY (dept_id) REFERENCES departments (dept_id) ON DELETE SET NULL;`);
  });
  afterAll(() => {
    mysqlRoot(`ALTER TABLE trade_orders DROP FOREIGN KEY ${CASCADE};
      ALTER TABLE users DROP FOREIGN KEY ${SET_NULL};`);
  });

  it("sees every edge and primary key the application's user sees, and reads no row of those tables", async () => {
    const service = await graphAs(stackEnv('MYSQL_URL'));
    const app = await graphAs(appMysqlUrl());
    expect(edgeNames(app)).toEqual(expect.arrayContaining([CASCADE, SET_NULL]));
    expect(edgeNames(service)).toEqual(edgeNames(app));
    expect(service.edges.find((e) => e.name === CASCADE)).toMatchObject({
      child: 'trade_orders',
      childColumns: ['brand_id'],
      parent: 'brands',
      onDelete: 'CASCADE',
    });
    expect(service.edges.find((e) => e.name === SET_NULL)).toMatchObject({
      child: 'users',
      parent: 'departments',
      onDelete: 'SET NULL',
    });
    expect(Object.fromEntries(service.primaryKeys)).toEqual(Object.fromEntries(app.primaryKeys));
    expect(service.primaryKeys.get('trade_orders')).toEqual(['order_id']);

    // and the service, with its rules and its settings (MYSQL_URL of its user), handles both
    const lines = await describeForeignKeys(testConfig(), loadRules(), createLogger('warn'));
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^cascade ${CASCADE}: .*children by parent key`)),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^cascade ${SET_NULL}: .*children by parent key`)),
    );
    expect(lines.join('\n')).not.toContain('foreign keys unknown');

    const p = pool(stackEnv('MYSQL_URL'));
    try {
      await expect(p.query(sql`SELECT 1 FROM trade_orders LIMIT 1`)).rejects.toThrow(
        /SELECT command denied/,
      );
    } finally {
      await p.dispose();
    }
  });

  it('a user with SELECT on the loaders’ tables only (no REFERENCES) misses them', async () => {
    const user = `mcs-noref-${uniq()}`;
    mysqlRoot(`CREATE USER '${user}'@'%' IDENTIFIED BY 'noref-password' REQUIRE SSL;
      GRANT SELECT ON mis.departments TO '${user}'@'%'; GRANT SELECT ON mis.brands TO '${user}'@'%';
      GRANT SELECT ON mis.products TO '${user}'@'%'; GRANT SELECT ON mis.user_auth TO '${user}'@'%';`);
    try {
      const g = await graphAs(
        `mysql://${user}:noref-password@127.0.0.1:${process.env.STACK_MYSQL_PORT}/mis`,
      );
      expect(edgeNames(g)).not.toContain(CASCADE);
      expect(edgeNames(g)).not.toContain(SET_NULL);
      expect(g.primaryKeys.has('trade_orders')).toBe(false);
      expect(g.primaryKeys.has('users')).toBe(false);
    } finally {
      mysqlRoot(`DROP USER '${user}'@'%'`);
    }
  });
});
