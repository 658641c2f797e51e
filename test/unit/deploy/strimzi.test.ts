/**
 * The Strimzi resources are the local stack's Debezium set-up: the KafkaConnector equals the
 * stack's connector configuration key by key, Connect builds the same Debezium artifact.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { DEPLOY, REPO, keyValues, type Manifest } from './render';

const read = (p: string) => readFileSync(path.join(REPO, p), 'utf8');
const manifest = (p: string) => YAML.parse(readFileSync(path.join(DEPLOY, p), 'utf8')) as Manifest;

// The keys whose values belong to the deployment, not to the connector's behaviour.
const WHERE_IT_RUNS = new Set([
  'database.hostname',
  'database.port',
  'database.password', // a Secret, through the config provider
  'database.ssl.mode', // the stack's plain variant runs without TLS; production verifies
  'schema.history.internal.kafka.bootstrap.servers',
]);

describe('Strimzi resources', () => {
  const stack = keyValues(read('stack/connect/mis-connector.properties.in'));
  const secure = keyValues(read('stack/secure/connector-security.properties.in'));
  const connector = manifest('kubernetes/strimzi/kafkaconnector.yaml');
  const config = new Map(
    Object.entries(connector.spec.config as Record<string, unknown>).map(([k, v]) => [
      k,
      String(v),
    ]),
  );

  it('the KafkaConnector has every key of the stack’s connector, with the same values', () => {
    expect(connector.metadata.name).toBe(stack.get('name'));
    expect(connector.spec.class).toBe(stack.get('connector.class'));
    expect(String(connector.spec.tasksMax)).toBe(stack.get('tasks.max'));
    for (const [key, value] of stack) {
      if (['name', 'connector.class', 'tasks.max'].includes(key)) continue;
      expect([key, config.has(key)]).toEqual([key, true]);
      if (!WHERE_IT_RUNS.has(key)) expect([key, config.get(key)]).toEqual([key, value]);
    }
  });

  it('its other keys are the secure stack’s TLS/SASL keys, nothing of its own', () => {
    for (const key of config.keys())
      expect([key, stack.has(key) || secure.has(key)]).toEqual([key, true]);
    expect(config.get('database.ssl.mode')).toBe(secure.get('database.ssl.mode'));
    for (const [key, value] of config)
      if (/password/.test(key) || /password=/.test(value))
        expect([key, value]).toEqual([key, expect.stringContaining('${secrets:')]);
  });

  it('Connect builds the Debezium artifact and converters of the stack', () => {
    const connect = manifest('kubernetes/strimzi/kafkaconnect.yaml');
    expect(connector.metadata.labels?.['strimzi.io/cluster']).toBe(connect.metadata.name);
    expect(connect.metadata.annotations?.['strimzi.io/use-connector-resources']).toBe('true');
    const pom = read('stack/pom.xml');
    const debezium = /<debezium.version>([^<]+)<\/debezium.version>/.exec(pom)?.[1];
    const artifacts = connect.spec.build.plugins.flatMap(
      (p: { artifacts: unknown[] }) => p.artifacts,
    );
    expect(artifacts).toEqual([
      {
        type: 'maven',
        group: 'io.debezium',
        artifact: 'debezium-connector-mariadb',
        version: debezium,
      },
    ]);
    const worker = keyValues(read('stack/connect/worker.properties.in'));
    for (const key of [
      'key.converter',
      'value.converter',
      'key.converter.schemas.enable',
      'value.converter.schemas.enable',
    ])
      expect([key, String(connect.spec.config[key])]).toEqual([key, worker.get(key)]);
  });
});
