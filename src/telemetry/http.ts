/**
 * The operations endpoint (node:http, no framework), started before anything waits for Redis
 * or Kafka:
 *
 * - `GET /metrics`: Prometheus text (metrics.ts).
 * - `GET /healthz`: 200 while the process runs (a liveness probe).
 * - `GET /readyz`: 200 when the consumer is a member of its group (joined, not crashed, not
 *   stopped) and not skipping every event it reads (all of databases not watched), every Redis
 *   connection answers PING in time and no node of the Redis topology has a critical problem
 *   (redis/topology.ts); else 503. The JSON body says which part is not ready,
 *   and `redis.nodes` names every node behind the connections (sentinels, replicas, cluster
 *   nodes) with what is wrong with it, also while ready (`degraded` lists those nodes).
 *
 * - `GET /applied?gtid=…|binlog=…&wait=2s`: read-your-writes (docs/read-your-writes.md): 200 with
 *   `{applied, status}` once known or when the wait ran out, 400 for a bad question, 404 when
 *   tracking is off.
 *
 * A port that cannot be bound is logged and the service runs without the endpoint: the cache
 * keeps being invalidated, and a readiness probe of the orchestrator reports the problem.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../core/errors';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { ConnectionHealth, NodeFinding } from './types';

export interface ReadinessReport {
  readonly ready: boolean;
  /**
   * The intake's consumer state (`joined` is the only ready one); `skippingAll` says what is
   * skipped while every event read is of a database not watched (not ready either).
   */
  readonly kafka: { readonly ok: boolean; readonly state: string; readonly skippingAll?: string };
  readonly redis: {
    readonly ok: boolean;
    readonly connections: readonly ConnectionHealth[];
    /** Every node of the topology (topology.ts); present when the topology was inspected. */
    readonly nodes?: readonly NodeFinding[];
    /** The nodes with a problem that is not critical (redundancy lost): still ready. */
    readonly degraded?: readonly string[];
  };
}

/**
 * Ready = group joined, every Redis connection healthy (at least one connection) and no node
 * of the topology with a critical problem.
 */
export function aggregateReadiness(
  consumer: string,
  redis: readonly ConnectionHealth[],
  nodes?: readonly NodeFinding[],
  skippingAll?: string,
): ReadinessReport {
  const kafkaOk = consumer === 'joined' && skippingAll === undefined;
  const redisOk =
    redis.length > 0 && redis.every((c) => c.ok) && !(nodes ?? []).some((n) => n.critical);
  const degraded = (nodes ?? []).filter((n) => !n.ok && !n.critical).map((n) => n.node);
  return {
    ready: kafkaOk && redisOk,
    kafka: {
      ok: kafkaOk,
      state: consumer,
      ...(skippingAll === undefined ? {} : { skippingAll }),
    },
    redis: {
      ok: redisOk,
      connections: redis,
      ...(nodes ? { nodes, degraded: [...new Set(degraded)] } : {}),
    },
  };
}

export interface HttpOptions {
  readonly host: string;
  /** 0: any free port. */
  readonly port: number;
  readonly metrics: Pick<Metrics, 'scrape'>;
  readonly readiness: () => Promise<ReadinessReport>;
  /** `/applied`: the query's parameters → HTTP status and JSON body; absent: tracking off. */
  readonly applied?: (params: URLSearchParams) => Promise<{ status: number; body: unknown }>;
  readonly logger: Logger;
}

export interface HttpEndpoint {
  /** The port bound (the one picked when 0 was asked for). */
  readonly port: number;
  close(): Promise<void>;
}

/** Listens; resolves undefined (after a warning) when the address cannot be bound. */
export async function startHttpEndpoint(options: HttpOptions): Promise<HttpEndpoint | undefined> {
  const { logger } = options;
  const server = createServer((req, res) => {
    route(req, res, options).catch((err: unknown) => {
      logger.warn({ path: req.url, error: errorMessage(err) }, 'http request failed');
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    logger.warn(
      { host: options.host, port: options.port, error: errorMessage(err) },
      'metrics and health endpoint not started (MCS_HTTP_PORT / MCS_HTTP_HOST)',
    );
    return undefined;
  }
  server.on('error', (err) => logger.warn({ error: err.message }, 'http server error'));
  const { port } = server.address() as AddressInfo;
  logger.info({ host: options.host, port }, 'metrics and health endpoint listening');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function route(req: IncomingMessage, res: ServerResponse, options: HttpOptions) {
  const [path, query] = (req.url ?? '/').split('?');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    return;
  }
  switch (path) {
    case '/metrics': {
      const { contentType, body } = await options.metrics.scrape();
      send(res, 200, contentType, body);
      return;
    }
    case '/healthz':
      sendJson(res, 200, { status: 'alive' });
      return;
    case '/readyz': {
      let report: ReadinessReport;
      try {
        report = await options.readiness();
      } catch (err) {
        sendJson(res, 503, { status: 'not ready', error: errorMessage(err) });
        return;
      }
      sendJson(res, report.ready ? 200 : 503, {
        status: report.ready ? 'ready' : 'not ready',
        kafka: report.kafka,
        redis: report.redis,
      });
      return;
    }
    case '/applied': {
      if (!options.applied) {
        sendJson(res, 404, { error: 'applied tracking is off (MCS_APPLIED_TRACKING)' });
        return;
      }
      const { status, body } = await options.applied(new URLSearchParams(query ?? ''));
      sendJson(res, status, body);
      return;
    }
    default:
      send(
        res,
        404,
        'text/plain; charset=utf-8',
        'not found: /metrics, /healthz, /readyz, /applied\n',
      );
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(body)}\n`);
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
