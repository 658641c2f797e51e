import { AuthenticationError, MultipleErrors, ProtocolError } from '@platformatic/kafka';
import { buildConfig, type Config } from '../../../src/config/config';
import { SETTINGS, type SettingSpec } from '../../../src/config/settings';
import { createKafkaClient } from '../../../src/intake/client-factory';
import { kafkaError } from '../../../src/intake/platformatic/errors';
import { diagnoseKafka } from '../../../src/security/diagnose';
import { createLogger } from '../../../src/telemetry/logger';

const defaults = Object.fromEntries(
  (SETTINGS as readonly SettingSpec[])
    .filter((s) => s.default !== undefined)
    .map((s) => [s.env, s.default]),
);
const configWith = (env: Record<string, string>): Config =>
  buildConfig({ ...defaults, KAFKA_BROKERS: 'b1:9096', REDIS_URL: 'redis://r:6379', ...env });

describe('Kafka clients', () => {
  it('MCS_KAFKA_CLIENT picks the library; kafkajs by default; anything else is refused', async () => {
    const logger = createLogger('silent');
    expect(configWith({}).kafka.client).toBe('kafkajs');
    for (const name of ['kafkajs', 'platformatic'] as const) {
      const client = await createKafkaClient(configWith({ MCS_KAFKA_CLIENT: name }).kafka, logger);
      expect(client.name).toBe(name);
    }
    expect(() => configWith({ MCS_KAFKA_CLIENT: 'rdkafka' })).toThrow(/MCS_KAFKA_CLIENT/);
  });

  // The library's own error classes, nested as it nests a broker's answer.
  const config = configWith({
    MCS_KAFKA_SSL: 'true',
    MCS_KAFKA_SASL_MECHANISM: 'scram-sha-512',
    MCS_KAFKA_SASL_USERNAME: 'svc',
    MCS_KAFKA_SASL_PASSWORD: 'topsecret',
  }).kafka;

  it('a nested authorization failure is diagnosed as with kafkajs (ACCESS_DENIED, its name)', () => {
    const raw = new MultipleErrors('Joining group failed.', [
      new MultipleErrors('Received response with error while executing API JoinGroup(v9)', [
        new ProtocolError('GROUP_AUTHORIZATION_FAILED'),
      ]),
    ]);
    const err = kafkaError(raw);
    expect((err as { type?: string }).type).toBe('GROUP_AUTHORIZATION_FAILED');
    const d = diagnoseKafka(err, config);
    expect(d?.code).toBe('ACCESS_DENIED');
    expect(d?.message).toMatch(/GROUP_AUTHORIZATION_FAILED for User:svc/);
  });

  it('a refused SASL login and an untrusted certificate are diagnosed (AUTH_FAILED)', () => {
    const sasl = new MultipleErrors('Connecting to the brokers failed.', [
      new AuthenticationError('SASL authentication failed.', {
        cause: new ProtocolError('SASL_AUTHENTICATION_FAILED'),
      }),
    ]);
    expect(diagnoseKafka(kafkaError(sasl), config)?.message).toMatch(
      /SASL authentication as "svc" \(scram-sha-512\) was refused/,
    );
    const tls = new MultipleErrors('Connecting to the brokers failed.', [
      Object.assign(new Error('self-signed certificate in certificate chain'), {
        code: 'SELF_SIGNED_CERT_IN_CHAIN',
      }),
    ]);
    const d = diagnoseKafka(kafkaError(tls), config);
    expect(d?.code).toBe('AUTH_FAILED');
    expect(d?.message).toMatch(/TLS certificate is not trusted/);
  });
});
