import path from 'node:path';
import { explainEvents, readEventInput } from '../../../src/cli/explain';
import { loadConfig } from '../../../src/config/config';
import { payload } from '../../support/envelopes';
import { shippedRules } from '../../support/rules';

const fixtures = path.resolve(__dirname, '../../fixtures/debezium');
const config = (env: Record<string, string> = {}) =>
  loadConfig({
    env: { KAFKA_BROKERS: 'offline:9', REDIS_URL: 'redis://offline:6379', ...env },
    ignoreStackEnv: true,
  });

describe('explain', () => {
  it('shows DB, action, key, rule and fields for a real Debezium record', () => {
    const text = explainEvents(
      readEventInput(path.join(fixtures, 'user_auth-delete.json')),
      shippedRules,
      config(),
    );
    expect(text).toMatch(/^user_auth op=d: 2 operation\(s\)/);
    expect(text).toMatch(/DB 1 {2}delete {9}permissions:user:\d+/);
    expect(text).toMatch(/DB 0 {2}delete {9}session:user:\d+/);
    expect(text).toContain('targets[0] permissions:user:{user_id}; before image: user_id=');
  });

  it('decodes DATE and DECIMAL of a real create into day and month keys', () => {
    const text = explainEvents(
      readEventInput(path.join(fixtures, 'trade_orders-create.json')),
      shippedRules,
      config(),
    );
    expect(text).toMatch(/stats:daily_sales:\d{8}\n/);
    expect(text).toMatch(/stats:monthly_revenue:\d{6}\n/);
  });

  it('follows the configured DB numbers and refresh families', () => {
    const text = explainEvents(
      readEventInput(path.join(fixtures, 'brands-update.json')),
      shippedRules,
      config({
        MCS_REDIS_DB_MASTER: '5',
        MCS_REFRESH_FAMILIES: 'master',
        MYSQL_URL: 'mysql://u@h/mis',
      }),
    );
    expect(text).toMatch(/DB 5 {2}refresh {8}master:brands/);
    expect(text).toContain('rebuilt by: SELECT brand_id AS id');
  });

  it('says why nothing happens for tombstones, snapshots, unknown tables and bad envelopes', () => {
    const inputs = [
      { value: null },
      payload({ op: 'r', after: { brand_id: 1 }, table: 'brands' }),
      payload({ op: 'c', after: { id: 1 }, table: 'nope' }),
      { op: 'x' },
    ];
    const lines = explainEvents(inputs, shippedRules, config()).split('\n');
    expect(lines[0]).toBe('event 1: tombstone (null value): ignored, touches nothing');
    expect(lines[1]).toBe(
      'event 2: brands op=r: 0 operation(s)  [rule ' + shippedRules.get('brands')?.file + ']',
    );
    expect(lines[2]).toMatch(/snapshot read: no invalidation/);
    expect(lines[3]).toBe('event 3: rejected (UNKNOWN_TABLE): no rule for table "nope"');
    expect(lines[4]).toMatch(/^event 4: rejected \(ENVELOPE_MALFORMED\): op is "x"/);
  });
});

describe('explain follows MCS_DATABASES like the service', () => {
  const user = { user_id: 7, username: 'u7', dept_id: 1, use_yn: 'N' };
  const ofDb = (db: string) => {
    const value = payload({ op: 'u', before: user, after: user, table: 'users' });
    (value.source as Record<string, unknown>).db = db;
    return { topic: 'mis.mis.users', value };
  };
  const cfg = () => config({ MCS_DATABASES: 'mis' });

  it('a row of a database not watched is skipped, touching nothing, not rejected', () => {
    const text = explainEvents([ofDb('other')], shippedRules, cfg());
    expect(text).toBe(
      'users: skipped, database "other" is not watched (MCS_DATABASES: mis); touches nothing\n',
    );
  });

  it('a row of a watched database is planned as before', () => {
    const text = explainEvents([ofDb('mis')], shippedRules, cfg());
    expect(text).toMatch(/^users op=u: 2 operation\(s\)/);
  });
});
