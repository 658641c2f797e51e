/**
 * Start phase 1: counters, metrics and the HTTP endpoint, up before Redis is waited for, so
 * /healthz answers and /readyz says what is missing while the rest of the start waits.
 */
import { errorMessage } from '../core/errors';
import type { AppliedMarks } from '../intake/applied/marks';
import { appliedRoute } from '../intake/applied/query';
import type { ConsumerState } from '../intake/consumer';
import type { RedisClients } from '../redis/clients';
import { pingAll, sampleInfo } from '../redis/health';
import { inspectTopology } from '../redis/topology';
import { Counters } from '../telemetry/counters';
import { aggregateReadiness, startHttpEndpoint, type HttpEndpoint } from '../telemetry/http';
import { Metrics } from '../telemetry/metrics';
import type { NodeFinding } from '../telemetry/types';
import type { StartContext } from './start-context';

/** How long a readiness PING or a scrape's INFO may take. */
const REDIS_PROBE_TIMEOUT_MS = 1000;

export interface Telemetry {
  readonly counters: Counters;
  readonly metrics: Metrics;
  /** Undefined when the endpoint is off or could not bind. */
  readonly http: HttpEndpoint | undefined;
}

export async function startTelemetry(
  ctx: StartContext,
  deps: {
    /** Not connected yet: probed by scrapes and readiness only. */
    readonly redis: RedisClients;
    /** The intake's state once it exists (undefined until Kafka is reached). */
    readonly intakeState: () => ConsumerState | undefined;
    /** What the intake skips while it skips every event (undefined otherwise). */
    readonly intakeSkipping: () => string | undefined;
    readonly onHttpListening: ((port: number) => void) | undefined;
    /** Read-your-writes marks (MCS_APPLIED_TRACKING): `/applied` answers from them. */
    readonly applied?: AppliedMarks;
  },
): Promise<Telemetry> {
  const { config, logger, closers } = ctx;
  const { redis, intakeState } = deps;
  const counters = new Counters();
  const metrics = new Metrics();
  metrics.setRedisInfoSource(() => sampleInfo(redis.raw, REDIS_PROBE_TIMEOUT_MS));
  metrics.setGroupJoined(() => intakeState() === 'joined');
  const http = config.http.enabled
    ? await startHttpEndpoint({
        host: config.http.host,
        port: config.http.port,
        metrics,
        readiness: async () => {
          const [connections, nodes] = await Promise.all([
            pingAll(redis.raw, REDIS_PROBE_TIMEOUT_MS),
            inspectTopology(redis.raw, config.redis, REDIS_PROBE_TIMEOUT_MS).catch(
              (err: unknown): NodeFinding[] => [
                { node: 'redis', role: 'master', ok: false, detail: errorMessage(err) },
              ],
            ),
          ]);
          return aggregateReadiness(
            intakeState() ?? 'starting',
            connections,
            nodes,
            deps.intakeSkipping(),
          );
        },
        ...(deps.applied ? { applied: appliedRoute(deps.applied) } : {}),
        logger: logger.child({ component: 'http' }),
      })
    : undefined;
  if (http) closers.defer('http endpoint', () => http.close());
  if (http) deps.onHttpListening?.(http.port);
  return { counters, metrics, http };
}
