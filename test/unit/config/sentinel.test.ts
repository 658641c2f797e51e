import { loadConfig, redactUrl } from '../../../src/config/config';
import { parseSentinelUrl } from '../../../src/config/sentinel';

const kafka = { KAFKA_BROKERS: '127.0.0.1:9092' };
const load = (env: Record<string, string>) =>
  loadConfig({ env: { ...kafka, ...env }, ignoreStackEnv: true });

describe('Redis Sentinel settings', () => {
  it('reads the sentinels and the master name beside a plain REDIS_URL', () => {
    const config = load({
      REDIS_URL: 'redis://svc:pw@ignored:6379',
      MCS_REDIS_SENTINELS: '10.0.0.1:26379, s2:26380',
      MCS_REDIS_SENTINEL_MASTER: 'mis',
    });
    expect(config.redis.sentinel).toEqual({
      hosts: ['10.0.0.1:26379', 's2:26380'],
      name: 'mis',
      password: '',
    });
  });

  it('reads the redis+sentinel:// form with credentials, several hosts and the master name', () => {
    const config = load({ REDIS_URL: 'rediss+sentinel://svc:p%40ss@a:1,b:2/mis-master' });
    expect(config.redis.sentinel).toEqual({
      hosts: ['a:1', 'b:2'],
      name: 'mis-master',
      password: '',
    });
    expect(parseSentinelUrl('rediss+sentinel://svc:p%40ss@a:1,b:2/mis-master')).toMatchObject({
      tls: true,
      username: 'svc',
      password: 'p@ss',
    });
  });

  it('is off without sentinels; WAIT is off by default', () => {
    const config = load({ REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(config.redis.sentinel).toBeUndefined();
    expect(config.redis.waitReplicas).toBe(0);
  });

  it.each([
    [{ REDIS_URL: 'redis+sentinel://a:1,b/mis' }, /REDIS_URL .*sentinel "b" is not host:port/],
    [{ REDIS_URL: 'redis+sentinel://a:1' }, /REDIS_URL .*is not a sentinel URL/],
    [
      { REDIS_URL: 'redis://x:1', MCS_REDIS_SENTINELS: 'nohost' },
      /MCS_REDIS_SENTINELS .*"nohost" is not host:port/,
    ],
    [
      { REDIS_URL: 'redis+sentinel://a:1/m', MCS_REDIS_SENTINELS: 'b:2' },
      /MCS_REDIS_SENTINELS .*cannot be combined/,
    ],
  ])('rejects %j', (env, message) => {
    expect(() => load(env)).toThrow(message);
  });

  it('never shows the password of a sentinel URL', () => {
    expect(redactUrl('redis+sentinel://svc:secret@a:1,b:2/m')).toBe(
      'redis+sentinel://svc:***@a:1,b:2/m',
    );
    let message = '';
    try {
      load({ REDIS_URL: 'redis+sentinel://svc:secret@a:1,b/m' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/not host:port/);
    expect(message).not.toContain('secret');
  });
});
