/**
 * The replication barrier before a commit (MCS_REDIS_WAIT_REPLICAS > 0): WAIT on each connection
 * (every master in a cluster) until the asked replicas — or all connected ones, when fewer are
 * connected, e.g. just after a failover — acknowledged every write sent on it so far. A master
 * that dies after acknowledging a write it had not replicated would otherwise take the write with
 * it. WAIT covers only the writes of the connection it is sent on, so every connection that wrote
 * for the batch (the families' DBs and the row index) is asked. A connected replica that lags
 * past the timeout makes the batch retry (REDIS_UNAVAILABLE).
 */
import { SyncError, errorMessage } from '../core/errors';
import type { Logger } from '../telemetry/logger';
import type { RedisPort } from './port';

export interface WaitOptions {
  /** Replicas that must hold the writes; 0 or absent: no barrier. */
  readonly replicas?: number | undefined;
  readonly timeoutMs?: number | undefined;
}

export async function awaitReplicas(
  ports: Iterable<RedisPort>,
  options: WaitOptions,
  logger?: Logger,
): Promise<void> {
  const replicas = options.replicas ?? 0;
  if (replicas <= 0) return;
  const timeout = options.timeoutMs ?? 1000;
  let acks;
  try {
    const unique = new Set(ports);
    acks = (await Promise.all([...unique].map((p) => p.waitReplicas(replicas, timeout)))).flat();
  } catch (err) {
    throw new SyncError('REDIS_UNAVAILABLE', `redis: WAIT: ${errorMessage(err)}`, {
      retryable: true,
      cause: err,
    });
  }
  const lagging = acks.filter((a) => a.acked < Math.min(replicas, a.connected));
  if (lagging.length > 0) {
    const where = lagging.map((a) => `${a.node} ${a.acked}/${a.connected}`).join(', ');
    throw new SyncError(
      'REDIS_UNAVAILABLE',
      `redis: replicas did not acknowledge the batch within ${timeout} ms (${where})`,
      { retryable: true },
    );
  }
  const short = acks.filter((a) => a.connected < replicas);
  if (short.length > 0) {
    logger?.debug(
      { nodes: short.map((a) => a.node), connected: short.map((a) => a.connected), replicas },
      'fewer replicas connected than MCS_REDIS_WAIT_REPLICAS: waited for those connected',
    );
  }
}
