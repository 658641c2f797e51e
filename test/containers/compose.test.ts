/**
 * docker-compose.yml for real: Debian's docker-compose (1.29) brings the file up with the host
 * override (local images, host network, this file's ports 21640-21645), a change in MariaDB must
 * be seen by the service container (the key deleted), SIGTERM must stop the service container
 * cleanly, and `down` must leave nothing of the project behind.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import connect, { sql, type ConnectionPool } from '@databases/mysql';
import Redis from 'ioredis';
import { uniq, waitFor } from '../support/stack';
import { docker } from './support/containers';

const ROOT = path.resolve(__dirname, '..', '..');
const PROJECT = `mcs-compose-${uniq()}`;
const PORTS = {
  mysql: 21640,
  redis: 21641,
  kafka: 21642,
  controller: 21643,
  connect: 21644,
  http: 21645,
};
const env = {
  ...process.env,
  COMPOSE_MYSQL_PORT: String(PORTS.mysql),
  COMPOSE_REDIS_PORT: String(PORTS.redis),
  COMPOSE_KAFKA_PORT: String(PORTS.kafka),
  COMPOSE_KAFKA_CONTROLLER_PORT: String(PORTS.controller),
  COMPOSE_CONNECT_PORT: String(PORTS.connect),
  COMPOSE_SERVICE_HTTP_PORT: String(PORTS.http),
};

function compose(...args: string[]): string {
  const files = ['-f', 'docker-compose.yml', '-f', 'stack/docker/compose.host.yml'];
  return execFileSync('docker-compose', ['-p', PROJECT, ...files, ...args], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 480_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Containers, networks and volumes carrying this project's compose label. */
function leftovers(): string[] {
  const label = `label=com.docker.compose.project=${PROJECT}`;
  return [
    docker('ps', '-aq', '--filter', label),
    docker('network', 'ls', '-q', '--filter', label),
    docker('volume', 'ls', '-q', '--filter', label),
  ].filter((s) => s !== '');
}

describe('docker-compose.yml on this machine', () => {
  let db: ConnectionPool | undefined;
  let cache: Redis | undefined;

  afterAll(async () => {
    await Promise.all([cache?.quit(), db?.dispose()]);
    compose('down', '-v', '--remove-orphans', '-t', '20'); // also after a failure
  });

  it('comes up, the service container deletes the changed key, stops on SIGTERM, and down leaves nothing', async () => {
    compose('up', '-d');
    const service = compose('ps', '-q', 'mis-cache-sync').trim();
    expect(service).not.toBe('');
    // the image's HEALTHCHECK (GET /healthz), then the service's own readiness (group joined)
    await waitFor(
      () => docker('inspect', '-f', '{{.State.Health.Status}}', service) === 'healthy',
      120_000,
      'the service container to be healthy',
      1_000,
    );
    await waitFor(
      async () =>
        (await fetch(`http://127.0.0.1:${PORTS.http}/readyz`).catch(() => undefined))?.status ===
        200,
      120_000,
      'the service to be ready',
      500,
    );
    expect(docker('exec', service, 'id', '-u')).not.toBe('0'); // not root

    db = connect({
      connectionString: `mysql://app:app@127.0.0.1:${PORTS.mysql}/mis`,
      bigIntMode: 'number',
      poolSize: 1,
    });
    cache = new Redis({ host: '127.0.0.1', port: PORTS.redis, db: 1, maxRetriesPerRequest: 2 });
    await cache.set('master:brands', '[{"id":1}]', 'EX', 600);
    await cache.set('stats:daily_sales:brand:10', 'keep', 'EX', 600);
    await db.query(
      sql`UPDATE brands SET brand_name = ${`compose ${Date.now()}`} WHERE brand_id = 1`,
    );
    await waitFor(
      async () => (await cache!.exists('master:brands')) === 0,
      30_000,
      'master:brands to go',
      50,
    );
    expect(await cache.get('stats:daily_sales:brand:10')).toBe('keep');

    // SIGTERM (docker stop): the service finishes its batch and exits 0 before the 20 s grace
    const started = Date.now();
    compose('stop', '-t', '20', 'mis-cache-sync');
    const stopMs = Date.now() - started;
    expect(docker('inspect', '-f', '{{.State.ExitCode}}', service)).toBe('0');
    expect(stopMs).toBeLessThan(20_000);
    console.log(`service container stopped on SIGTERM in ${stopMs} ms (exit 0)`);

    await cache.quit();
    await db.dispose();
    cache = undefined;
    db = undefined;
    compose('down', '-v', '--remove-orphans', '-t', '20');
    expect(leftovers()).toEqual([]);
  });
});
