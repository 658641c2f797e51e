import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, redactConfig } from '../../../src/config/config';

describe('secrets from files (<NAME>_FILE)', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'mcs-secret-files-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const base = { KAFKA_BROKERS: 'k:9092', REDIS_URL: 'redis://r:6379' };

  it('reads every secret setting from its file (one trailing newline dropped), redacted in print', () => {
    writeFileSync(path.join(dir, 'sasl'), 's3cret-sasl\n');
    writeFileSync(path.join(dir, 'redis'), 'rediss://u:s3cret-redis@r:6380');
    writeFileSync(path.join(dir, 'mysql'), 'mysql://u:s3cret-mysql@m:3306/mis\n');
    const config = loadConfig({
      ignoreStackEnv: true,
      env: {
        KAFKA_BROKERS: 'k:9092',
        MCS_KAFKA_SASL_MECHANISM: 'scram-sha-512',
        MCS_KAFKA_SASL_USERNAME: 'svc',
        MCS_KAFKA_SASL_PASSWORD_FILE: path.join(dir, 'sasl'),
        REDIS_URL_FILE: path.join(dir, 'redis'),
        MYSQL_URL_FILE: path.join(dir, 'mysql'),
      },
    });
    expect(config.kafka.sasl?.password).toBe('s3cret-sasl');
    expect(config.redis.url).toBe('rediss://u:s3cret-redis@r:6380');
    expect(config.mysql.url).toBe('mysql://u:s3cret-mysql@m:3306/mis');
    const printed = JSON.stringify(redactConfig(config));
    for (const s of ['s3cret-sasl', 's3cret-redis', 's3cret-mysql'])
      expect(printed).not.toContain(s);
  });

  it('refuses a value given both ways, a missing file, and _FILE on a setting that is not secret', () => {
    writeFileSync(path.join(dir, 'r2'), 'redis://r:6379');
    expect(() =>
      loadConfig({
        ignoreStackEnv: true,
        env: { ...base, REDIS_URL_FILE: path.join(dir, 'r2') },
      }),
    ).toThrow(/REDIS_URL and REDIS_URL_FILE: both are set/);
    expect(() =>
      loadConfig({
        ignoreStackEnv: true,
        env: { KAFKA_BROKERS: 'k:9092', REDIS_URL_FILE: path.join(dir, 'nope') },
      }),
    ).toThrow(/REDIS_URL_FILE \(redis.url\): cannot read .*ENOENT/);
    // not a secret: KAFKA_BROKERS_FILE means nothing, KAFKA_BROKERS stays required
    expect(() =>
      loadConfig({
        ignoreStackEnv: true,
        env: { REDIS_URL: 'redis://r:6379', KAFKA_BROKERS_FILE: path.join(dir, 'r2') },
      }),
    ).toThrow(/KAFKA_BROKERS/);
  });
});
