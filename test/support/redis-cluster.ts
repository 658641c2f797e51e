/**
 * A throwaway Redis Cluster of a test or bench (scripts/stack/redis-cluster.sh) on its own base
 * port, so runs in parallel worktrees or files do not share nodes; with replicas it is the
 * failover kind (a killed master's replica is promoted after the node timeout).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import Redis, { Cluster } from 'ioredis';

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'stack', 'redis-cluster.sh');

export interface TestCluster {
  readonly url: string;
  up(): void;
  down(): void;
  /** SIGKILL of one node (a crash). */
  killNode(port: number): void;
  /** Connections to every node of the cluster that answers (the caller disconnects them). */
  nodes(): Redis[];
  /** CONFIG SET notify-keyspace-events KA on every node (replicas too: they may be promoted). */
  notifyAll(): Promise<void>;
}

export function testCluster(opts: {
  readonly basePort: number;
  readonly replicas: 0 | 1;
  readonly nodeTimeoutMs?: number;
}): TestCluster {
  const env = {
    ...process.env,
    REDIS_CLUSTER_BASE_PORT: String(opts.basePort),
    REDIS_CLUSTER_REPLICAS: String(opts.replicas),
    REDIS_CLUSTER_NODE_TIMEOUT: String(opts.nodeTimeoutMs ?? 2000),
  };
  const run = (...args: string[]) =>
    execFileSync('bash', [SCRIPT, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  const count = 3 * (1 + opts.replicas);
  const ports = Array.from({ length: count }, (_, i) => opts.basePort + i);
  const nodes = () =>
    ports.map(
      (port) =>
        new Redis({
          port,
          host: '127.0.0.1',
          lazyConnect: true,
          retryStrategy: () => null,
          maxRetriesPerRequest: 0,
        }),
    );
  return {
    url: `redis://127.0.0.1:${opts.basePort}`,
    up: () => run('up'),
    down: () => run('down'),
    killNode: (port) => run('kill-node', String(port)),
    nodes,
    async notifyAll() {
      await Promise.all(
        nodes().map(async (n) => {
          try {
            await n.connect();
            await n.config('SET', 'notify-keyspace-events', 'KA');
          } catch {
            // a killed node: nothing to set
          } finally {
            n.disconnect();
          }
        }),
      );
    },
  };
}

/** A client of the cluster for seeding and checks, independent of the service's. */
export function clusterVerifier(basePort: number): Cluster {
  return new Cluster([{ host: '127.0.0.1', port: basePort }], {
    redisOptions: { maxRetriesPerRequest: 2 },
  });
}
