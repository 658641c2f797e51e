/**
 * Whether the service skips everything it reads: a run of change events all of databases not
 * watched (MCS_DATABASES), none handled, of at least `minEvents` events or lasting `minMs`.
 * The configuration check makes the usual cause (watched databases and topics disagreeing) fail
 * the start; this catches what it cannot see (topics routed from another database, a connector
 * pointed elsewhere). Any handled event ends the run. Pure: the consumer feeds it, the service
 * shows it (a gauge, a warning, readiness).
 */
export interface SkipWatchOptions {
  readonly minEvents?: number;
  readonly minMs?: number;
  /** Told when the state flips: the text says what is skipped, undefined when it ends. */
  readonly onChange: (skipping: string | undefined) => void;
  readonly now?: () => number;
}

const MIN_EVENTS = 1000;
const MIN_MS = 5 * 60_000;

export class SkipWatch {
  private runEvents = 0;
  private runSince = 0;
  private readonly dbs = new Set<string>();
  private state: string | undefined;

  constructor(private readonly opts: SkipWatchOptions) {}

  /** What is skipped while everything is, else undefined. */
  get skipping(): string | undefined {
    return this.state;
  }

  /** One batch: events handled (planned) and the databases of the foreign ones, one per event. */
  record(handled: number, foreignDbs: readonly string[]): void {
    const now = (this.opts.now ?? Date.now)();
    if (handled > 0) {
      this.runEvents = 0;
      this.dbs.clear();
      this.flip(undefined);
      return;
    }
    if (foreignDbs.length === 0) return;
    if (this.runEvents === 0) this.runSince = now;
    this.runEvents += foreignDbs.length;
    for (const db of foreignDbs) this.dbs.add(db);
    const long =
      this.runEvents >= (this.opts.minEvents ?? MIN_EVENTS) ||
      now - this.runSince >= (this.opts.minMs ?? MIN_MS);
    if (long) {
      this.flip(
        `the last ${this.runEvents} change event(s) were all of databases not watched (${[...this.dbs].sort().join(', ')}), none handled`,
      );
    }
  }

  private flip(next: string | undefined): void {
    const changed = (next === undefined) !== (this.state === undefined);
    this.state = next;
    if (changed) this.opts.onChange(next);
  }
}
