/**
 * `mis-cache-sync wait-applied --gtid <gtid> | --binlog <file>:<pos> [--timeout <duration>]`:
 * waits until the service group has applied that source position to Redis (first pass).
 * Exit 0 applied, 1 not within the timeout (or a rejected event in that transaction), 2 usage.
 */
import { AppliedMarks } from '../intake/applied/marks';
import { AppliedUsageError, answerApplied, parseAppliedQuery } from '../intake/applied/query';
import { createRedisClients } from '../redis/clients';
import type { OpContext } from './context';

export interface WaitAppliedOptions {
  readonly gtid?: string;
  readonly binlog?: string;
  readonly timeout?: string;
}

/** Thrown for a usage error (the program turns it into exit 2). */
export class WaitAppliedUsage extends Error {}

export async function waitAppliedCommand(
  { config, logger, out }: OpContext,
  opts: WaitAppliedOptions,
): Promise<number> {
  let query;
  try {
    query = parseAppliedQuery({ ...opts, wait: opts.timeout ?? '10s', waitLabel: '--timeout' });
  } catch (err) {
    if (err instanceof AppliedUsageError) throw new WaitAppliedUsage(err.message);
    throw err;
  }
  if (!config.kafka.appliedTracking)
    logger.warn(
      'MCS_APPLIED_TRACKING is off here: the service must run with it on to mark anything',
    );
  const redis = createRedisClients(config.redis, logger);
  try {
    await redis.ready();
    const reply = await answerApplied(new AppliedMarks(redis.ports.temp), query);
    out(`${JSON.stringify(reply)}\n`);
    return reply.applied ? 0 : 1;
  } finally {
    await redis.close();
  }
}
