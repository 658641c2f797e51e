/** The watched databases (MCS_DATABASES, else MYSQL_URL's) and the topics' (MYSQL_DATABASE) agree. */
import os from 'node:os';
import { loadConfig } from '../../../src/config/config';

const env = { KAFKA_BROKERS: 'k:9092', REDIS_URL: 'redis://r:6379' };
const load = (extra: Record<string, string>) =>
  loadConfig({ cwd: os.tmpdir(), env: { ...env, ...extra }, ignoreStackEnv: true });

describe('watched databases and the topics', () => {
  it("fails when MYSQL_URL's database is not the topics' one, naming both", () => {
    // every event of mis.mis.* carries source.db=mis: all would be skipped as foreign
    expect(() => load({ MYSQL_URL: 'mysql://a:b@h:3306/mis_prod' })).toThrow(
      /MYSQL_DATABASE.*"mis".*not among the watched databases \(mis_prod, from MYSQL_URL\)/,
    );
  });

  it('fails when MCS_DATABASES leaves out the topics’ database', () => {
    expect(() => load({ MCS_DATABASES: 'a, b', MYSQL_DATABASE: 'mis' })).toThrow(
      /MYSQL_DATABASE.*"mis".*not among the watched databases \(a, b, from MCS_DATABASES\)/,
    );
  });

  it('passes when they agree', () => {
    expect(
      load({ MYSQL_URL: 'mysql://h/mis_prod', MYSQL_DATABASE: 'mis_prod' }).rules.databases,
    ).toEqual(['mis_prod']);
    expect(load({ MCS_DATABASES: 'mis, erp' }).rules.databases).toEqual(['mis', 'erp']);
    expect(load({}).rules.databases).toEqual(['mis']);
  });
});
