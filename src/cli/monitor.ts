/**
 * `mis-cache-sync monitor`: the consistency monitor as its own process, with a `/metrics`
 * endpoint on MCS_MONITOR_HTTP_PORT, until SIGTERM/SIGINT; prints the tally per window at the end.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import { createKafka } from '../intake/kafka';
import { createRowLoader } from '../mysql/loader';
import { ConsistencyMonitor, nines } from '../consistency/monitor';
import { createRedisClients } from '../redis/clients';
import { pingAll } from '../redis/health';
import { aggregateReadiness, startHttpEndpoint } from '../telemetry/http';
import { requireMysql } from './operations';
import type { OpContext } from './context';

export async function monitorCommand(
  { config, rules, logger, out }: OpContext,
  opts: { readonly repair?: boolean } = {},
): Promise<number> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const redis = createRedisClients(config.redis, logger);
  const loader = createRowLoader(requireMysql(config), config.mysql.tls);
  const kafka = createKafka(config.kafka, logger);
  const monitor = new ConsistencyMonitor({
    kafka,
    config,
    rules,
    ports: redis.ports,
    loader,
    logger,
    registry,
    ...(opts.repair ? { repair: true } : {}),
  });
  let joined = false;
  const http = await startHttpEndpoint({
    host: config.http.host,
    port: config.monitor.httpPort,
    metrics: {
      scrape: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
    },
    readiness: async () =>
      aggregateReadiness(joined ? 'joined' : 'starting', await pingAll(redis.raw, 1000)),
    logger,
  });
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  try {
    await redis.ready();
    await monitor.start();
    joined = true;
    out(
      `monitor: group ${config.monitor.groupId}, sample ${config.monitor.sample}${opts.repair || config.monitor.repair ? ', repairing persisting keys' : ''}, metrics on ${config.http.host}:${http?.port ?? '(off)'}\n`,
    );
    await stopped;
  } finally {
    await monitor.stop().catch(() => undefined);
    await http?.close();
    await redis.close();
    await loader.close();
  }
  const r = monitor.report();
  out(`monitor: ${r.sampledEvents} sampled event(s)\n`);
  for (const w of r.windows) {
    const n = nines(w.checks, w.inconsistent);
    out(
      `  window ${w.window}: ${w.checks} check(s), ${w.inconsistent} inconsistent, ${w.unjudged} not judged, ${w.repaired} repaired, nines ${n === undefined ? '-' : n.toFixed(2)}\n`,
    );
  }
  return 0;
}
