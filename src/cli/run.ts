/**
 * `mis-cache-sync run`: the service until SIGTERM/SIGINT. The signal handlers are installed
 * before the start, so a signal while the start still waits for Redis (or Kafka) gives the start
 * up at once instead of being ignored until the stop bound.
 */
import type { Config } from '../config/config';
import { errorMessage, isSetupError, isSyncError } from '../core/errors';
import { startService, type RunningService } from '../app/service';
import { createLogger } from '../telemetry/logger';

/** How long a graceful stop may take before the process exits anyway. */
export const STOP_TIMEOUT_MS = 15_000;

export async function runCommand(config: Config): Promise<number> {
  const logger = createLogger(config.log.level);
  const abort = new AbortController();
  let running: RunningService | undefined;
  let signalled: string | undefined;
  let stopped: ((code: number) => void) | undefined;
  const stopping = new Promise<number>((resolve) => (stopped = resolve));

  const shutdown = (signal: string) => {
    if (signalled !== undefined) {
      logger.warn({ signal }, 'second signal: exiting now');
      stopped?.(1);
      return;
    }
    signalled = signal;
    if (!running) {
      // Still starting: give the start up; startService closes what it opened.
      logger.info({ signal }, 'stopping: start given up');
      abort.abort();
      return;
    }
    stopRunning(running, signal);
  };
  const stopRunning = (service: RunningService, signal: string) => {
    logger.info({ signal }, 'stopping: finishing the batch in flight');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: STOP_TIMEOUT_MS }, 'graceful stop timed out');
      stopped?.(1);
    }, STOP_TIMEOUT_MS);
    service.stop().then(
      () => {
        clearTimeout(timer);
        stopped?.(0);
      },
      (err) => {
        clearTimeout(timer);
        logger.error({ error: errorMessage(err) }, 'error while stopping');
        stopped?.(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  try {
    running = await startService(config, logger, { signal: abort.signal });
  } catch (err) {
    if (signalled !== undefined) {
      logger.info({ signal: signalled }, 'stopped before the start completed');
      return 0;
    }
    const code = isSyncError(err) ? err.code : 'STARTUP_FAILED';
    logger.fatal({ code }, `cannot start: ${errorMessage(err)}`);
    return isSetupError(err) ? 2 : 1;
  }
  // A signal that came while Kafka was being joined (after the Redis wait) stops it now.
  if (signalled !== undefined) stopRunning(running, signalled);
  return stopping;
}
