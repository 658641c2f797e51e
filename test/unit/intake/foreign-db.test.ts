import os from 'node:os';
import { planBatch } from '../../../src/intake/batch-plan';
import { loadConfig } from '../../../src/config/config';
import { payload, record } from '../../support/envelopes';
import { planOptions, shippedRules } from '../../support/rules';

const user = (id: number) => ({ user_id: id, username: `u${id}`, dept_id: 1, use_yn: 'N' });
const ofDb = (db: string, id: number, offset: string) => {
  const value = payload({ op: 'u', before: user(id), after: user(id), table: 'users' });
  (value.source as Record<string, unknown>).db = db;
  return record(value, { topic: 'mis.mis.users', offset });
};

describe('foreign databases', () => {
  const ctx = {
    rules: shippedRules,
    topicPrefix: 'mis',
    database: 'mis',
    databases: new Set(['mis']),
    ...planOptions(),
  };

  it('rows of another database dirty no key and are neither handled nor rejected', () => {
    const plan = planBatch([ofDb('other', 7, '1'), ofDb('mis', 8, '2')], ctx);
    expect(plan.ops.map((o) => o.key).sort()).toEqual(['permissions:user:8', 'session:user:8']);
    expect(plan.foreign).toEqual([
      { place: { topic: 'mis.mis.users', partition: 0, offset: '1' }, db: 'other', table: 'users' },
    ]);
    expect(plan.handled.map((h) => h.place.offset)).toEqual(['2']);
    expect(plan.rejected).toEqual([]);
  });

  it('database names compare exactly (MySQL on Linux is case-sensitive)', () => {
    expect(planBatch([ofDb('MIS', 7, '1')], ctx).foreign).toHaveLength(1);
  });

  const env = { KAFKA_BROKERS: 'k:9092', REDIS_URL: 'redis://r:6379' };
  it('default: the database of MYSQL_URL, else MYSQL_DATABASE; MCS_DATABASES lists several', () => {
    expect(
      loadConfig({
        cwd: os.tmpdir(),
        env: { ...env, MYSQL_URL: 'mysql://a:b@h:3306/mis_prod?ssl=1', MYSQL_DATABASE: 'mis_prod' },
      }).rules.databases,
    ).toEqual(['mis_prod']);
    expect(
      loadConfig({ cwd: os.tmpdir(), env: { ...env, MYSQL_DATABASE: 'erp' } }).rules.databases,
    ).toEqual(['erp']);
    expect(
      loadConfig({
        cwd: os.tmpdir(),
        env: { ...env, MCS_DATABASES: 'a, b', MYSQL_URL: 'mysql://h/mis', MYSQL_DATABASE: 'a' },
      }).rules.databases,
    ).toEqual(['a', 'b']);
  });
});
