/**
 * Start phase 6b: Debezium's heartbeats → `mis_cache_sync_source_freshness_seconds` (after the
 * intake, whose group and topics it measures). Not fatal: a heartbeat topic that cannot be
 * followed is logged, and the gauge then ages from the start, which the freshness alert sees.
 */
import { errorMessage } from '../core/errors';
import { ensureTopics } from '../intake/kafkajs/admin';
import { SourceFreshness } from '../intake/heartbeats';
import { createKafka } from '../intake/kafka';
import { registerSourceFreshness } from '../telemetry/freshness';
import type { Metrics } from '../telemetry/metrics';
import type { StartContext } from './start-context';

export async function startHeartbeats(
  ctx: StartContext,
  deps: { readonly metrics: Metrics; readonly changeTopics: readonly string[] },
): Promise<void> {
  const { config, logger, closers } = ctx;
  const topic = config.kafka.heartbeatTopic;
  if (topic === '') return;
  const kafka = createKafka(config.kafka, logger); // kafkajs, like the operator tools
  const freshness = new SourceFreshness({
    kafka,
    heartbeatTopic: topic,
    connector: config.kafka.topicPrefix,
    groupId: config.kafka.groupId,
    changeTopics: deps.changeTopics,
    sessionTimeoutMs: config.kafka.sessionTimeoutMs,
    logger,
  });
  registerSourceFreshness(deps.metrics.registry, () => freshness.ages());
  try {
    // Debezium creates it with its first heartbeat; subscribing needs it now.
    if (config.kafka.ensureTopics) await ensureTopics(kafka, [topic]);
    closers.defer('heartbeats', () => freshness.stop());
    await freshness.start();
    logger.info({ topic }, 'following Debezium heartbeats (source freshness)');
  } catch (err) {
    logger.warn(
      { topic, error: errorMessage(err) },
      'heartbeat topic not followed: source freshness ages from the start',
    );
  }
}
