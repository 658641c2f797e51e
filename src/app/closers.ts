/**
 * The service's teardown in one place: whatever a start phase opens registers its close here
 * right after opening it, and `closeAll()` closes everything once, newest first. The same stack
 * serves a start that fails half-way (only what was opened is closed) and the running service's
 * `stop()`, so the two cannot drift apart.
 */
import { errorMessage } from '../core/errors';
import type { Logger } from '../telemetry/logger';

export interface CloseFailure {
  readonly name: string;
  readonly error: unknown;
}

export class Closers {
  private readonly entries: { readonly name: string; readonly close: () => unknown }[] = [];
  private closing: Promise<CloseFailure[]> | undefined;

  constructor(private readonly logger: Logger) {}

  /** Registers `close` to run at `closeAll()`, before everything registered earlier. */
  defer(name: string, close: () => void | Promise<void>): void {
    if (this.closing) throw new Error(`closers: "${name}" registered after closeAll()`);
    this.entries.push({ name, close });
  }

  /**
   * Runs every close once, in reverse order of registration, each after the previous one
   * settled; a failing close is logged and the rest still run. Resolves to the failures (none:
   * `[]`). A second call returns the first call's promise.
   */
  closeAll(): Promise<CloseFailure[]> {
    this.closing ??= this.run();
    return this.closing;
  }

  private async run(): Promise<CloseFailure[]> {
    const failures: CloseFailure[] = [];
    for (const { name, close } of [...this.entries].reverse()) {
      try {
        await close();
      } catch (error) {
        failures.push({ name, error });
        this.logger.error({ close: name, error: errorMessage(error) }, 'close failed');
      }
    }
    return failures;
  }
}
