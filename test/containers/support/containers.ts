/**
 * The local stack as testcontainers: MariaDB, Redis, Kafka (KRaft) and Connect + Debezium from
 * the images scripts/stack/docker.sh builds (stack/docker/*.Dockerfile), each a GenericContainer
 * on the host network listening on 127.0.0.1 ports of the calling test file's own block. Wait
 * strategies ask the real thing: SELECT 1, PING, broker started, connector and task RUNNING with
 * the snapshot done and the binlog followed. Ryuk is off (global setup): `stop()` removes them.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { createTopicsReady } from '../../support/stack';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const TAG = process.env.STACK_IMAGE_TAG ?? 'local';
export const IMAGES = {
  mariadb: `mis-stack-mariadb:${TAG}`,
  redis: `mis-stack-redis:${TAG}`,
  kafka: `mis-stack-kafka:${TAG}`,
  connect: `mis-stack-connect:${TAG}`,
  service: `mis-cache-sync:${TAG}`,
};

export interface StackPorts {
  mysql: number;
  redis: number;
  kafka: number;
  controller: number;
  connect: number;
}

/** Five consecutive ports from `base`: each test file passes its own block. */
export function portsFrom(base: number): StackPorts {
  return { mysql: base, redis: base + 1, kafka: base + 2, controller: base + 3, connect: base + 4 };
}

/** The Docker CLI against the suite's engine (DOCKER_HOST from the global setup). */
export function docker(...args: string[]): string {
  return execFileSync('docker', args, { env: process.env, encoding: 'utf8' }).trim();
}

/** The table topics the service follows (one per table of schemas/mis.sql, as stack.sh creates). */
export function tableTopics(prefix = 'mis', database = 'mis'): string[] {
  const schema = readFileSync(path.join(ROOT, 'schemas', 'mis.sql'), 'utf8');
  return [...schema.matchAll(/^CREATE TABLE (\w+)/gm)].map((m) => `${prefix}.${database}.${m[1]}`);
}

export class ContainerStack {
  constructor(
    readonly ports: StackPorts,
    readonly containers: Partial<
      Record<'mariadb' | 'redis' | 'kafka' | 'connect', StartedTestContainer>
    >,
  ) {}

  /** The same variables as .stack/env, pointing at this file's containers. */
  env(): Record<string, string> {
    return {
      MYSQL_URL: `mysql://app:app@127.0.0.1:${this.ports.mysql}/mis`,
      MYSQL_DATABASE: 'mis',
      REDIS_URL: `redis://127.0.0.1:${this.ports.redis}`,
      KAFKA_BROKERS: `127.0.0.1:${this.ports.kafka}`,
      CONNECT_URL: `http://127.0.0.1:${this.ports.connect}`,
      TOPIC_PREFIX: 'mis',
      CONNECTOR_NAME: 'mis-connector',
    };
  }

  /** Points the helpers of test/support/stack.ts (they read process.env) at this stack. */
  applyEnv(): void {
    Object.assign(process.env, this.env());
  }

  id(part: 'mariadb' | 'redis' | 'kafka' | 'connect'): string {
    const c = this.containers[part];
    if (!c) throw new Error(`${part} container is not running`);
    return c.getId();
  }

  /** Stops and removes every container of this stack (teardown; also after a failed start). */
  async stop(): Promise<void> {
    const all = Object.values(this.containers).filter((c): c is StartedTestContainer => !!c);
    await Promise.allSettled(all.map((c) => c.stop({ timeout: 20_000, remove: true })));
  }
}

/**
 * The last lines each part printed. testcontainers removes a container whose wait strategy fails
 * (its logs go with it), and a container that exited early surfaces only as "HTTP 409 ... is not
 * running" from the wait's exec: the tail is what names the cause.
 */
const TAIL_LINES = 40;
const tails = new Map<string, string[]>();

function keepTail(part: string): (stream: NodeJS.ReadableStream) => void {
  const lines: string[] = [];
  tails.set(part, lines);
  return (stream) => {
    stream.on('data', (chunk: Buffer | string) => {
      for (const line of String(chunk).split('\n')) {
        if (line.trim() === '') continue;
        lines.push(line);
        if (lines.length > TAIL_LINES) lines.shift();
      }
    });
  };
}

/** The error of a failed start with every part's last output lines appended. */
function withTails(err: unknown, ports: StackPorts): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  const shown = [...tails.entries()]
    .map(([part, lines]) => `--- ${part} (last ${lines.length} lines)\n${lines.join('\n')}`)
    .join('\n');
  e.message = `container stack on ports ${JSON.stringify(ports)} failed to start: ${e.message}\n${shown}`;
  return e;
}

function base(image: string, part: string, env: Record<string, string>): GenericContainer {
  return new GenericContainer(image)
    .withNetworkMode('host')
    .withLogConsumer(keepTail(part))
    .withEnvironment(env)
    .withLabels({ 'mis.test': part })
    .withStartupTimeout(240_000);
}

/** Creates the table topics (the service subscribes to all of them) once the broker answers. */
async function createTopics(brokers: string): Promise<void> {
  const admin = new Kafka({
    clientId: 'mcs-containers',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    await createTopicsReady(
      admin,
      tableTopics().map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })),
    );
  } finally {
    await admin.disconnect();
  }
}

export async function startContainerStack(basePort: number): Promise<ContainerStack> {
  const ports = portsFrom(basePort);
  const stack = new ContainerStack(ports, {});
  try {
    const [mariadb, redis, kafka] = await Promise.all([
      base(IMAGES.mariadb, 'mariadb', { MYSQL_PORT: String(ports.mysql) })
        .withWaitStrategy(
          // the final server's socket only exists once the first-start provisioning is done
          Wait.forSuccessfulCommand(
            `mariadb -uapp -papp --protocol=tcp -h127.0.0.1 -P${ports.mysql} mis -e 'SELECT COUNT(*) FROM brands'`,
          ),
        )
        .start(),
      base(IMAGES.redis, 'redis', { REDIS_PORT: String(ports.redis) })
        .withWaitStrategy(
          Wait.forSuccessfulCommand(`redis-cli -p ${ports.redis} PING | grep -qx PONG`),
        )
        .start(),
      base(IMAGES.kafka, 'kafka', {
        KAFKA_PORT: String(ports.kafka),
        KAFKA_CONTROLLER_PORT: String(ports.controller),
      })
        .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
        .start(),
    ]);
    Object.assign(stack.containers, { mariadb, redis, kafka });
    await createTopics(`127.0.0.1:${ports.kafka}`);
    stack.containers.connect = await base(IMAGES.connect, 'connect', {
      KAFKA_PORT: String(ports.kafka),
      CONNECT_PORT: String(ports.connect),
      MYSQL_PORT: String(ports.mysql),
    })
      .withWaitStrategy(
        Wait.forAll([
          // snapshot done and the binlog followed (Debezium's own log line) ...
          Wait.forLogMessage(/Connected to binlog at/),
          // ... and the REST API reports the connector and its task RUNNING
          Wait.forSuccessfulCommand(
            `curl -sf http://127.0.0.1:${ports.connect}/connectors/mis-connector/status | grep -Eq '"tasks":\\[\\{[^]]*"state":"RUNNING"'`,
          ),
        ]),
      )
      .start();
    return stack;
  } catch (err) {
    await stack.stop();
    throw withTails(err, ports);
  }
}
