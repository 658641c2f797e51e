import { buildConfig } from '../../../src/config/config';
import { SETTINGS, type SettingSpec } from '../../../src/config/settings';
import { diagnoseKafka, diagnoseMysql, diagnoseRedis } from '../../../src/security/diagnose';

const defaults = Object.fromEntries(
  (SETTINGS as readonly SettingSpec[])
    .filter((s) => s.default !== undefined)
    .map((s) => [s.env, s.default]),
);
const config = buildConfig({
  ...defaults,
  KAFKA_BROKERS: 'b1:9096',
  REDIS_URL: 'rediss://svc:topsecret@r:6379',
  MYSQL_URL: 'mysql://svc:topsecret@m:3306/mis',
  MCS_KAFKA_SSL: 'true',
  MCS_KAFKA_SASL_MECHANISM: 'scram-sha-512',
  MCS_KAFKA_SASL_USERNAME: 'svc',
  MCS_KAFKA_SASL_PASSWORD: 'topsecret',
});

describe('diagnose', () => {
  it('names SASL refusals with the settings to fix, without the password', () => {
    const err = Object.assign(new Error('SASL SCRAM SHA512 authentication failed: bad'), {
      name: 'KafkaJSSASLAuthenticationError',
    });
    const d = diagnoseKafka(err, config.kafka);
    expect(d?.code).toBe('AUTH_FAILED');
    expect(d?.message).toMatch(/kafka \(b1:9096\): SASL authentication as "svc"/);
    expect(d?.message).toMatch(/MCS_KAFKA_SASL_PASSWORD/);
    expect(d?.message).not.toContain('topsecret');
  });

  it('names untrusted certificates with the CA setting of the part', () => {
    const cert = Object.assign(new Error('self-signed certificate in certificate chain'), {
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    });
    expect(diagnoseKafka(cert, config.kafka)?.message).toMatch(/MCS_KAFKA_SSL_CA_FILE/);
    expect(diagnoseRedis(cert, config.redis, 'r:6379')?.message).toMatch(/MCS_REDIS_TLS_CA_FILE/);
    expect(diagnoseMysql({ cause: cert }, config.mysql, 'm:3306/mis')?.message).toMatch(
      /MCS_MYSQL_TLS_CA_FILE/,
    );
  });

  it('tells Kafka authorization failures from other errors', () => {
    const denied = Object.assign(new Error('Not authorized to access topics'), {
      type: 'TOPIC_AUTHORIZATION_FAILED',
    });
    expect(diagnoseKafka(denied, config.kafka)?.code).toBe('ACCESS_DENIED');
    expect(diagnoseKafka(new Error('Connection timeout'), config.kafka)).toBeUndefined();
  });

  it('Redis: WRONGPASS and NOPERM are permanent, a refused connection is not', () => {
    expect(
      diagnoseRedis(new Error('WRONGPASS invalid username-password pair'), config.redis, 'x')?.code,
    ).toBe('AUTH_FAILED');
    expect(diagnoseRedis(new Error('NOPERM no eval'), config.redis, 'x')?.code).toBe(
      'ACCESS_DENIED',
    );
    expect(diagnoseRedis(new Error('connect ECONNREFUSED'), config.redis, 'x')).toBeUndefined();
  });

  it('MySQL: a refused password and a required TLS are named', () => {
    const denied = Object.assign(new Error("Access denied for user 'svc'"), {
      code: 'ER_ACCESS_DENIED_ERROR',
    });
    expect(diagnoseMysql(denied, config.mysql, 'm')?.message).toMatch(/MYSQL_URL/);
    expect(
      diagnoseMysql(
        new Error('Connections using insecure transport are prohibited'),
        config.mysql,
        'm',
      )?.message,
    ).toMatch(/MCS_MYSQL_TLS=true/);
  });
});
