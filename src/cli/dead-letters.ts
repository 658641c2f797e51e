/** `mis-cache-sync dead-letters list|redrive`: wiring of src/ops/dead-letters.ts. */
import { SyncError } from '../core/errors';
import { DeadLetterQueue } from '../intake/dead-letter';
import { createKafka } from '../intake/kafka';
import { kafkajsProducer } from '../intake/kafkajs/producer';
import { createRowLoader } from '../mysql/loader';
import { listDeadLetters, redrive, redriveGroup } from '../ops/dead-letters';
import { createRedisClients } from '../redis/clients';
import { startKeyExecutor, type KeyExecutorSetup } from '../keys/executor-setup';
import { requireMysql } from './operations';
import type { OpContext } from './context';

export async function deadLettersListCommand(
  { config, logger, out }: OpContext,
  opts: { since?: string; reason?: string; table?: string },
): Promise<number> {
  const since = opts.since === undefined ? undefined : new Date(opts.since);
  if (since && Number.isNaN(since.getTime()))
    throw new SyncError('CONFIG_INVALID', `--since: "${opts.since}" is not an ISO timestamp`);
  const kafka = createKafka(config.kafka, logger);
  const letters = await listDeadLetters(
    { kafka, config, logger },
    {
      ...(since ? { since } : {}),
      ...(opts.reason ? { reason: opts.reason } : {}),
      ...(opts.table ? { table: opts.table } : {}),
    },
  );
  for (const l of letters) {
    out(
      `${l.at.toISOString()}  ${l.origin.topic}/${l.origin.partition}@${l.origin.offset}  ${l.table || '-'}  ${l.code}  ${l.redriven ? '[redriven] ' : ''}${l.message}\n`,
    );
  }
  const pending = letters.filter((l) => !l.redriven).length;
  out(
    `${letters.length} dead letter(s) on ${config.kafka.deadLetterTopic}${opts.since || opts.reason || opts.table ? ' matching' : ''}; ${pending} pending redrive\n`,
  );
  return 0;
}

export async function deadLettersRedriveCommand(
  { config, rules, logger, out }: OpContext,
  opts: { dryRun?: boolean },
): Promise<number> {
  const dryRun = opts.dryRun === true;
  const kafka = createKafka(config.kafka, logger);
  const redis = dryRun ? undefined : createRedisClients(config.redis, logger);
  const loader =
    redis && config.rules.refreshFamilies.length > 0
      ? createRowLoader(requireMysql(config), config.mysql.tls)
      : undefined;
  const producer = dryRun ? undefined : kafkajsProducer(kafka);
  let setup: KeyExecutorSetup | undefined;
  try {
    await redis?.ready();
    await producer?.connect();
    // The service's executor set-up: pattern deletes read the pattern index instead of walking.
    setup = redis
      ? await startKeyExecutor({ config: config.redis, rules, clients: redis, loader, logger })
      : undefined;
    const report = await redrive(
      {
        kafka,
        config,
        rules,
        logger,
        ...(setup ? { executor: setup.executor } : {}),
        ...(producer
          ? { deadLetters: new DeadLetterQueue(producer, config.kafka.deadLetterTopic) }
          : {}),
      },
      { dryRun },
    );
    out(
      `redrive${dryRun ? ' (dry run: nothing touched, nothing committed)' : ''}: ${report.read} pending dead letter(s), ` +
        `${report.applied} ${dryRun ? 'would apply' : 'applied'} (${report.operations.length} distinct operation(s), ${report.deleted} key(s) deleted, ${report.refreshed} refreshed), ${report.stillFailing.length} still failing\n`,
    );
    if (dryRun)
      for (const op of report.operations)
        out(`  DB ${config.redis.db[op.family]}  ${op.action.padEnd(14)} ${op.key}\n`);
    for (const f of report.stillFailing) {
      const o = f.letter.origin;
      out(
        `  STILL FAILING ${o.topic}/${o.partition}@${o.offset}  ${f.letter.table || '-'}  ${f.code}  ${f.message}\n`,
      );
    }
    if (!dryRun && report.stillFailing.length > 0)
      out(
        `  (sent back to ${config.kafka.deadLetterTopic} with the new reason; progress: group ${redriveGroup(config)})\n`,
      );
    return report.stillFailing.length > 0 ? 1 : 0;
  } finally {
    await producer?.disconnect();
    await setup?.patterns.close();
    await redis?.close();
    await loader?.close();
  }
}
