/**
 * In-process counters of what the service did. Cheap enough to bump per event; logged
 * periodically and at shutdown (a metrics endpoint can read the same snapshot).
 */
export type CounterName =
  | 'events'
  | 'tombstones'
  | 'skippedSnapshot'
  | 'skippedForeignDb'
  | 'rejected'
  | 'keysDeleted'
  | 'keysRefreshed'
  | 'refreshFallbacks'
  | 'patternScans'
  | 'batches'
  | 'retries'
  | 'deadLettered'
  | 'secondPassOps'
  /** Resolve step: pattern fallbacks (row index could not answer), related rows found. */
  | 'rowIndexFallbacks'
  | 'relatedRows';

export class Counters {
  private readonly values = new Map<string, number>();

  add(name: CounterName, by = 1, label?: string): void {
    const key = label ? `${name}{${label}}` : name;
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  get(name: CounterName, label?: string): number {
    return this.values.get(label ? `${name}{${label}}` : name) ?? 0;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.values.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }
}
