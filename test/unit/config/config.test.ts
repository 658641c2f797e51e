import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, redactUrl } from '../../../src/config/config';

const base = { KAFKA_BROKERS: '127.0.0.1:9092', REDIS_URL: 'redis://127.0.0.1:6379' };

describe('loadConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mcs-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('applies the defaults and freezes the result', () => {
    const config = loadConfig({ env: base, cwd: dir });
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.kafka.topicPrefix).toBe('mis');
    expect(config.redis.db).toEqual({ session: 0, permissions: 1, master: 1, stats: 1, temp: 2 });
    expect(config.redis.ttl).toEqual({
      session: 86400,
      permissions: 3600,
      master: 21600,
      stats: 43200,
      temp: 1800,
      lock: 300,
    });
    expect(config.time).toEqual({ zone: 'Asia/Seoul', databaseZone: 'Asia/Seoul' });
    expect(config.rules.refreshFamilies).toEqual([]);
    expect(config.rules.snapshotInvalidates).toBe(false);
    expect(Object.isFrozen(config.redis.db)).toBe(true);
  });

  it.each([
    [{ REDIS_URL: 'redis://x:1' }, /KAFKA_BROKERS \(kafka.brokers\): is required/],
    [{ ...base, KAFKA_BROKERS: 'nohost' }, /KAFKA_BROKERS .*"nohost" is not host:port/],
    [{ ...base, REDIS_URL: 'http://x' }, /REDIS_URL .*must start with redis:\/\//],
    [{ ...base, MCS_REDIS_DB_STATS: '16' }, /MCS_REDIS_DB_STATS .*must be <= 15/],
    [
      { ...base, MCS_TIME_ZONE: 'Mars/Base' },
      /MCS_TIME_ZONE .*"Mars\/Base" is not a known IANA time zone/,
    ],
    [
      { ...base, MCS_REFRESH_FAMILIES: 'master,queue' },
      /MCS_REFRESH_FAMILIES .*"queue" is not one of/,
    ],
    [{ ...base, MCS_REFRESH_FAMILIES: 'master' }, /MYSQL_URL .*required when MCS_REFRESH_FAMILIES/],
    [
      { ...base, MCS_DAILY_STATS_PATTERN: 'stats:daily_*' },
      /MCS_DAILY_STATS_PATTERN .*must contain \{date\}/,
    ],
    [{ ...base, MCS_SCAN_COUNT: 'ten' }, /MCS_SCAN_COUNT .*whole number/],
    [{ ...base, MCS_FROM_BEGINNING: 'maybe' }, /MCS_FROM_BEGINNING .*true or false/],
    [{ ...base, LOG_LEVEL: 'loud' }, /LOG_LEVEL .*must be one of/],
  ])('names the bad setting (%#)', (env, message) => {
    expect(() => loadConfig({ env, cwd: dir })).toThrow(message);
  });

  it('reads .stack/env below the environment and a YAML file between them', () => {
    const stackDir = path.join(dir, '.stack');
    mkdirSync(stackDir);
    writeFileSync(
      path.join(stackDir, 'env'),
      'export KAFKA_BROKERS=127.0.0.1:19092\nexport REDIS_URL="redis://127.0.0.1:16379"\nexport TOPIC_PREFIX=stack\n',
    );
    writeFileSync(
      path.join(dir, 'c.yaml'),
      'kafka:\n  topicPrefix: yaml\n  groupId: g1\nredis:\n  db:\n    session: 5\n',
    );
    const config = loadConfig({
      env: { MCS_CONFIG_FILE: 'c.yaml', MCS_GROUP_ID: 'env' },
      cwd: dir,
    });
    expect(config.kafka.brokers).toEqual(['127.0.0.1:19092']);
    expect(config.kafka.topicPrefix).toBe('yaml');
    expect(config.kafka.groupId).toBe('env');
    expect(config.redis.db.session).toBe(5);
    expect(loadConfig({ env: base, cwd: dir, ignoreStackEnv: true }).kafka.topicPrefix).toBe('mis');
  });

  it('puts every family in DB 0 in cluster mode', () => {
    const config = loadConfig({
      env: { ...base, MCS_REDIS_CLUSTER: 'true', MCS_REDIS_DB_TEMP: '2' },
      cwd: dir,
    });
    expect(Object.values(config.redis.db)).toEqual([0, 0, 0, 0, 0]);
  });

  it('rejects unknown keys in the YAML file', () => {
    writeFileSync(path.join(dir, 'c.yaml'), 'kafka:\n  brokerz: x\n');
    expect(() => loadConfig({ env: { ...base, MCS_CONFIG_FILE: 'c.yaml' }, cwd: dir })).toThrow(
      /kafka.brokerz: is not a known setting/,
    );
  });

  it('redacts passwords in URLs', () => {
    expect(redactUrl('redis://svc:s3cret@host:6379')).toBe('redis://svc:***@host:6379');
    expect(redactUrl('redis://svc:s3cret@host:6379')).not.toContain('s3cret');
  });
});
