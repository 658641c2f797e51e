/**
 * Says once that a dependency (Redis, or Kafka for the dead-letter topic) is unreachable, reminds
 * periodically while it stays so, and says when it is back, instead of one line per retry.
 */
import type { Logger } from '../telemetry/logger';

export class OutageReporter {
  private since: number | undefined;
  private lastReminder = 0;

  constructor(
    private readonly logger: Logger,
    private readonly reminderMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  failed(message: string, fields: Record<string, unknown>): void {
    const now = this.now();
    if (this.since === undefined) {
      this.since = now;
      this.lastReminder = now;
      this.logger.error(
        { ...fields, error: message },
        'dependency unavailable: consumption paused, retrying',
      );
    } else if (now - this.lastReminder >= this.reminderMs) {
      this.lastReminder = now;
      this.logger.warn(
        { ...fields, error: message, downMs: now - this.since },
        'dependency still unavailable',
      );
    }
  }

  succeeded(): void {
    if (this.since === undefined) return;
    this.logger.info(
      { downMs: this.now() - this.since },
      'dependency reachable again: consumption resumed',
    );
    this.since = undefined;
  }

  get down(): boolean {
    return this.since !== undefined;
  }
}
