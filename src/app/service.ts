/**
 * Wires the layers: rules (consumers/) → Redis clients + executor → Kafka intake. Startup
 * failures name the part that failed; a Redis that is down at start is waited for, not
 * crashed on.
 */
import { redactUrl, type Config } from '../config/config';
import { SyncError, errorMessage } from '../core/errors';
import { ChangeIntake } from '../intake/consumer';
import { createKafkaClient } from '../intake/client-factory';
import { createKafka } from '../intake/kafka';
import { createRowLoader } from '../mysql/loader';
import { createRedisClients } from '../redis/clients';
import { startKeyExecutor } from '../keys/executor-setup';
import type { PatternDeletes } from '../keys/pattern-deletes';
import { DEFAULT_CONSUMERS_DIR, loadRules, type RuleSet } from '../rules/registry';
import { DailyStatsJob } from '../schedule/daily-stats';
import { DeadLetterQueue } from '../intake/dead-letter';
import { SecondPass } from '../keys/second-pass';
import { pingAll, sampleInfo } from '../redis/health';
import { aclTargets, inspectTopology } from '../redis/topology';
import type { NodeFinding } from '../telemetry/types';
import { runStartupChecks } from '../preflight/redis-startup';
import { openRowIndex } from '../row-index/open';
import { checkRedisAcl } from '../preflight/redis-acl';
import { checkLoaderAccess } from '../preflight/mysql-access';
import { diagnoseKafka, diagnoseRedis } from '../security/diagnose';
import { checkTlsTrust } from '../security/tls-check';
import { Counters } from '../telemetry/counters';
import { aggregateReadiness, startHttpEndpoint } from '../telemetry/http';
import type { Logger } from '../telemetry/logger';
import { Metrics } from '../telemetry/metrics';
import { ConsistencyMonitor } from '../consistency/monitor';

export interface RunningService {
  readonly rules: RuleSet;
  readonly counters: Counters;
  readonly metrics: Metrics;
  /** Port of the metrics and health endpoint; undefined when it is off or could not bind. */
  readonly httpPort: number | undefined;
  /** Pattern index per DB and the walk budget (bench, tests). */
  readonly patterns: PatternDeletes;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Gives up a start that is still waiting for Redis (rejects after closing what it opened). */
  readonly signal?: AbortSignal;
  /** Told the endpoint's port as soon as it listens, before Redis and Kafka are waited for. */
  readonly onHttpListening?: (port: number) => void;
}

/** How long a readiness PING or a scrape's INFO may take. */
const REDIS_PROBE_TIMEOUT_MS = 1000;

export async function startService(
  config: Config,
  logger: Logger,
  options: StartOptions = {},
): Promise<RunningService> {
  const rules = loadRules(config.rules.dir || DEFAULT_CONSUMERS_DIR);
  logger.info({ tables: rules.tables, dir: rules.dir }, 'table rules loaded');

  const counters = new Counters();
  const metrics = new Metrics();
  const redis = createRedisClients(config.redis, logger.child({ component: 'redis' }));
  let consuming: ChangeIntake | undefined = undefined; // set once Kafka is reached
  metrics.setRedisInfoSource(() => sampleInfo(redis.raw, REDIS_PROBE_TIMEOUT_MS));
  metrics.setGroupJoined(() => consuming?.state === 'joined');
  // Up before Redis is waited for: /healthz answers and /readyz says what is missing.
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
          return aggregateReadiness(consuming?.state ?? 'starting', connections, nodes);
        },
        logger: logger.child({ component: 'http' }),
      })
    : undefined;
  if (http) options.onHttpListening?.(http.port);
  try {
    await checkTlsTrust(config); // an untrusted certificate stops the start at once
    await waitForRedis(redis.ready, config, logger, options.signal);
    await runStartupChecks(redis.raw, config.redis, logger.child({ component: 'redis' }));
    // ACLs are per node (neither replicated nor shared by a cluster): every master is asked.
    for (const target of aclTargets(redis.raw)) {
      const where = `${redactUrl(config.redis.url)}, node ${target.node}`;
      const acl = await checkRedisAcl(target.client, config.redis, where).catch((err: unknown) => {
        throw diagnoseRedis(err, config.redis, redactUrl(config.redis.url)) ?? err;
      });
      logger.debug({ acl, node: target.node }, 'redis ACL check');
    }
  } catch (err) {
    await http?.close();
    for (const c of redis.raw) c.disconnect();
    throw err;
  }

  // FK graph, row index and related-row lookups (flattened records, cascades, via targets).
  const rowIndex = await openRowIndex(config, rules, logger);
  const kafka = await createKafkaClient(config.kafka, logger);
  const loader =
    config.rules.refreshFamilies.length > 0
      ? createRowLoader(config.mysql.url, config.mysql.tls)
      : undefined;
  if (loader) {
    try {
      await checkLoaderAccess(loader, rules, config, logger.child({ component: 'mysql' }));
    } catch (err) {
      await Promise.all([loader.close(), redis.close(), http?.close(), rowIndex?.close()]);
      throw err;
    }
  }
  const { executor, patterns } = await startKeyExecutor({
    config: config.redis,
    rules,
    clients: redis,
    loader,
    logger,
  });
  // Always drains passes left from earlier runs; schedules new ones only with a delay set.
  const secondPass = new SecondPass(
    redis.ports.temp,
    config.redis.secondPassDelayMs,
    logger.child({ component: 'second-pass' }),
  );
  const producer = config.kafka.poisonPolicy === 'dead-letter' ? kafka.producer() : undefined;
  const deadLetters = producer
    ? new DeadLetterQueue(producer, config.kafka.deadLetterTopic)
    : undefined;
  const intake = new ChangeIntake({
    kafka,
    config,
    rules,
    executor,
    counters,
    metrics,
    logger,
    secondPass,
    deadLetters,
    ...(rowIndex ? { rowIndex } : {}),
  });
  consuming = intake;
  try {
    const topics = [...intake.topics, ...(deadLetters ? [deadLetters.topic] : [])];
    if (config.kafka.ensureTopics) {
      const created = await kafka.ensureTopics(topics);
      if (created.length > 0) logger.info({ topics: created }, 'created missing change topics');
    }
    await producer?.connect();
    await intake.start();
  } catch (err) {
    await producer?.disconnect().catch(() => undefined);
    await patterns.close();
    await rowIndex?.close();
    await redis.close();
    await loader?.close();
    await http?.close();
    throw (
      diagnoseKafka(err, config.kafka) ??
      new SyncError(
        'KAFKA_UNAVAILABLE',
        `kafka (${config.kafka.brokers.join(',')}): ${errorMessage(err)}`,
        {
          cause: err,
        },
      )
    );
  }
  logger.info(
    { topics: intake.topics, groupId: config.kafka.groupId, client: kafka.name },
    'consuming change events',
  );
  // MCS_MONITOR_IN_SERVICE: the consistency monitor beside the intake (its own group and loader).
  const monitorLoader = config.monitor.inService
    ? createRowLoader(config.mysql.url, config.mysql.tls)
    : undefined;
  const monitor = monitorLoader
    ? new ConsistencyMonitor({
        kafka: createKafka(config.kafka, logger), // ops tools run on kafkajs (docs/reliability.md "Kafka clients")
        config,
        rules,
        ports: redis.ports,
        loader: monitorLoader,
        logger,
        registry: metrics.registry,
      })
    : undefined;
  await monitor?.start();

  const daily = config.schedule.dailyStatsCron
    ? new DailyStatsJob(
        redis.ports.stats,
        {
          cron: config.schedule.dailyStatsCron,
          zone: config.time.zone,
          pattern: config.schedule.dailyStatsPattern,
          lockTtl: config.redis.ttl.lock,
          scanCount: config.redis.scanCount,
          unlinkBatch: config.redis.unlinkBatch,
          budget: patterns.budget,
        },
        logger.child({ component: 'schedule' }),
      )
    : undefined;
  await daily?.start();
  secondPass.start({
    apply: async (ops) => {
      const result = await executor.apply(ops);
      counters.add('secondPassOps', ops.length);
      return result;
    },
  });

  const statsTimer =
    config.log.statsIntervalMs > 0
      ? setInterval(
          () => logger.info({ counters: counters.snapshot() }, 'stats'),
          config.log.statsIntervalMs,
        )
      : undefined;
  statsTimer?.unref();

  return {
    rules,
    counters,
    metrics,
    httpPort: http?.port,
    patterns,
    async stop() {
      if (statsTimer) clearInterval(statsTimer);
      daily?.stop();
      await monitor?.stop();
      await monitorLoader?.close();
      await intake.stop();
      await secondPass.stop();
      await producer?.disconnect();
      await patterns.close();
      await rowIndex?.close();
      await redis.close();
      await loader?.close();
      await http?.close();
      logger.info({ counters: counters.snapshot() }, 'stopped');
    },
  };
}

async function waitForRedis(
  ready: () => Promise<void>,
  config: Config,
  logger: Logger,
  signal?: AbortSignal,
): Promise<void> {
  let delay = 200;
  let lastLog = 0;
  const abortError = () => new Error('start given up while waiting for Redis');
  const aborted = new Promise<never>((_, reject) => {
    if (signal?.aborted) reject(abortError());
    else signal?.addEventListener('abort', () => reject(abortError()), { once: true });
  });
  aborted.catch(() => undefined);
  for (;;) {
    try {
      await Promise.race([ready(), aborted]);
      return;
    } catch (err) {
      if (signal?.aborted) throw abortError();
      // wrong credentials, a refused command or certificate: waiting would not help
      const permanent = diagnoseRedis(err, config.redis, redactUrl(config.redis.url));
      if (permanent) throw permanent;
      const now = Date.now();
      if (now - lastLog >= config.retry.reminderMs) {
        lastLog = now;
        logger.error(
          { redis: redactUrl(config.redis.url), error: errorMessage(err) },
          'redis unavailable at start, waiting',
        );
      }
      await sleep(delay, signal);
      if (signal?.aborted) throw abortError();
      delay = Math.min(delay * 2, config.retry.maxDelayMs);
    }
  }
}

/** Resolves after `ms`, or at once when the signal aborts (no timer left behind). */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
