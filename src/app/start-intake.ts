/**
 * Start phase 6: the Kafka intake: client, dead-letter producer, missing topics, then joining
 * the group. A Kafka failure is diagnosed (credentials, TLS, ACLs) or reported as
 * KAFKA_UNAVAILABLE naming the brokers.
 */
import { SyncError, errorMessage } from '../core/errors';
import { createKafkaClient } from '../intake/client-factory';
import type { AppliedMarks } from '../intake/applied/marks';
import { AppliedTracker } from '../intake/applied/tracker';
import { ChangeIntake } from '../intake/consumer';
import { DeadLetterQueue } from '../intake/dead-letter';
import { createKafka } from '../intake/kafka';
import { pendingSampler } from '../intake/pending-sampler';
import type { OpenRowIndex } from '../row-index/open';
import { diagnoseKafka } from '../security/diagnose';
import type { Counters } from '../telemetry/counters';
import type { Metrics } from '../telemetry/metrics';
import type { Keys } from './start-keys';
import type { StartContext } from './start-context';

export interface IntakeDeps {
  readonly keys: Keys;
  readonly counters: Counters;
  readonly metrics: Metrics;
  readonly rowIndex: OpenRowIndex | undefined;
  /** Read-your-writes marks (MCS_APPLIED_TRACKING). */
  readonly applied?: AppliedMarks;
  /** Told the intake as soon as it exists, before it joins (readiness reports its state). */
  readonly onCreated: (intake: ChangeIntake) => void;
}

/** Resolves once the intake joined its group and is fetching. */
export async function startIntake(ctx: StartContext, deps: IntakeDeps): Promise<ChangeIntake> {
  const { config, rules, logger, closers } = ctx;
  const { keys, rowIndex } = deps;
  const kafka = await createKafkaClient(config.kafka, logger);
  const producer = config.kafka.poisonPolicy === 'dead-letter' ? kafka.producer() : undefined;
  const deadLetters = producer
    ? new DeadLetterQueue(producer, config.kafka.deadLetterTopic)
    : undefined;
  const intake = new ChangeIntake({
    kafka,
    config,
    rules,
    executor: keys.executor,
    counters: deps.counters,
    metrics: deps.metrics,
    logger,
    secondPass: keys.secondPass,
    deadLetters,
    ...(rowIndex ? { rowIndex } : {}),
    ...(deps.applied
      ? {
          applied: new AppliedTracker({
            marks: deps.applied,
            rules,
            databases: new Set(config.rules.databases),
            logger: logger.child({ component: 'applied' }),
          }),
        }
      : {}),
  });
  deps.onCreated(intake);
  try {
    const topics = [...intake.topics, ...(deadLetters ? [deadLetters.topic] : [])];
    if (config.kafka.ensureTopics) {
      const created = await kafka.ensureTopics(topics);
      if (created.length > 0) logger.info({ topics: created }, 'created missing change topics');
    }
    if (producer) closers.defer('dead-letter producer', () => producer.disconnect());
    await producer?.connect();
    await intake.start();
  } catch (err) {
    throw (
      diagnoseKafka(err, config.kafka) ??
      new SyncError(
        'KAFKA_UNAVAILABLE',
        `kafka (${config.kafka.brokers.join(',')}): ${errorMessage(err)}`,
        { cause: err },
      )
    );
  }
  if (deadLetters) {
    // Counted with kafkajs' admin, as the dead-letter tools (docs/reliability.md "Kafka clients").
    const admin = { kafka: createKafka(config.kafka, logger), config, logger };
    deps.metrics.setDeadLettersPendingSource(pendingSampler(admin));
  }
  // Only a started intake is stopped (a start that failed is not waited on to leave the group).
  closers.defer('intake', () => intake.stop());
  logger.info(
    { topics: intake.topics, groupId: config.kafka.groupId, client: kafka.name },
    'consuming change events',
  );
  return intake;
}
