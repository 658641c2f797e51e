/**
 * Events of the MySQL connector (`io.debezium.connector.mysql`, fixtures written from Debezium's
 * documentation of its change events: source with gtid, file, pos, row, server_id, thread,
 * query) give the same event and keys as the MariaDB connector's for the same rows.
 * No MySQL server runs here (none can be installed on this machine): these are the checks.
 */
import mariaBrands from '../../fixtures/debezium/brands-update.json';
import mariaOrders from '../../fixtures/debezium/trade_orders-create.json';
import mariaAuth from '../../fixtures/debezium/user_auth-delete.json';
import mysqlBrands from '../../fixtures/debezium/mysql/brands-update.json';
import mysqlOrders from '../../fixtures/debezium/mysql/trade_orders-create.json';
import mysqlAuth from '../../fixtures/debezium/mysql/user_auth-delete.json';
import { decodeAnyRecord } from '../../../src/envelope/detect';
import type { ChangeEvent } from '../../../src/envelope/types';
import { planEvent } from '../../../src/rules/plan';
import { planOptions, shippedRules } from '../../support/rules';

function event(fixture: { value: unknown }, table: string): ChangeEvent {
  const d = decodeAnyRecord(
    {
      topic: `mis.mis.${table}`,
      partition: 0,
      offset: '0',
      key: null,
      value: Buffer.from(JSON.stringify(fixture.value)),
    },
    undefined,
  );
  if (d.kind !== 'change') throw new Error('expected a change');
  return d.event;
}

function keys(table: string, e: ChangeEvent): string[] {
  const rule = shippedRules.get(table);
  if (!rule) throw new Error(table);
  return planEvent(e, rule, planOptions())
    .map((o) => `${o.family} ${o.action} ${o.key}`)
    .sort();
}

describe('MySQL connector events', () => {
  it.each([
    ['brands', mysqlBrands, mariaBrands],
    ['trade_orders', mysqlOrders, mariaOrders],
    ['user_auth', mysqlAuth, mariaAuth],
  ] as const)('%s: same rows, same keys as the MariaDB connector', (table, mysql, maria) => {
    const a = event(mysql, table);
    const b = event(maria, table);
    expect(a.source.connector).toBe('mysql');
    expect(b.source.connector).toBe('mariadb');
    expect(a.op).toBe(b.op);
    expect(a.before).toEqual(b.before);
    expect(a.after).toEqual(b.after);
    expect(keys(table, a)).toEqual(keys(table, b));
    expect(keys(table, a).length).toBeGreaterThan(0);
  });

  it('reads the source block: file, pos, row, gtid; a boolean snapshot flag too', () => {
    const s = event(mysqlBrands, 'brands').source;
    expect(s).toMatchObject({
      connector: 'mysql',
      db: 'mis',
      table: 'brands',
      file: 'mysql-bin.000003',
      pos: 484,
      row: 0,
      gtid: '3E11FA47-71CA-11E1-9E33-C80AA9429562:23',
      snapshot: 'false',
    });
    expect(event(mysqlAuth, 'user_auth').source).toMatchObject({ row: 1, pos: 154 });
  });
});
