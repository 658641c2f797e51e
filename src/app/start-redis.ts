/**
 * Start phase 2: the Redis clients reached. A Redis that is down at start is waited for (with
 * reminders in the log), not crashed on; wrong credentials, a refused command or an untrusted
 * certificate stop the start at once, since waiting would not help.
 */
import { redactUrl, type Config } from '../config/config';
import { errorMessage } from '../core/errors';
import { checkRedisAcl } from '../preflight/redis-acl';
import { runStartupChecks } from '../preflight/redis-startup';
import type { RedisClients } from '../redis/clients';
import { aclTargets } from '../redis/topology';
import { diagnoseRedis } from '../security/diagnose';
import { checkTlsTrust } from '../security/tls-check';
import type { Logger } from '../telemetry/logger';
import type { StartContext } from './start-context';

/** Connects `redis` (created, not connected, by the caller), then runs the startup checks. */
export async function connectRedis(
  ctx: StartContext,
  redis: RedisClients,
  signal: AbortSignal | undefined,
): Promise<void> {
  const { config, logger, closers } = ctx;
  // Until the checks pass the connections may still be retrying (or never were up): drop them;
  // QUIT, which waits for the server, only once they are known to answer.
  let checked = false;
  closers.defer('redis clients', async () => {
    if (checked) await redis.close();
    else for (const c of redis.raw) c.disconnect();
  });
  await checkTlsTrust(config); // an untrusted certificate stops the start at once
  await waitForRedis(redis.ready, config, logger, signal);
  await runStartupChecks(redis.raw, config.redis, logger.child({ component: 'redis' }));
  // ACLs are per node (neither replicated nor shared by a cluster): every master is asked.
  for (const target of aclTargets(redis.raw)) {
    const where = `${redactUrl(config.redis.url)}, node ${target.node}`;
    const acl = await checkRedisAcl(target.client, config.redis, where).catch((err: unknown) => {
      throw diagnoseRedis(err, config.redis, redactUrl(config.redis.url)) ?? err;
    });
    logger.debug({ acl, node: target.node }, 'redis ACL check');
  }
  checked = true;
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
