/**
 * Offset commits that run behind the work instead of in its path (as Kafka's own commitAsync):
 * a batch hands over its commit and the next batch starts at once. Per partition only the newest
 * commit waiting is sent (offsets are cumulative: it covers the older ones), one round of commits
 * at a time. A failed commit is reported and left to the next one; until then the offsets after
 * the last commit that landed are redelivered after a crash, which the idempotent invalidations
 * absorb. `flush()` waits until nothing is waiting or in flight (before leaving the group).
 */
export class CommitBehind {
  private readonly waiting = new Map<string, () => Promise<void>>();
  private round: Promise<void> | undefined;

  constructor(private readonly onError: (err: unknown) => void) {}

  /** `commit` replaces an older commit of the same `partitionKey` still waiting. */
  submit(partitionKey: string, commit: () => Promise<void>): void {
    this.waiting.set(partitionKey, commit);
    this.round ??= this.run();
  }

  async flush(): Promise<void> {
    while (this.round) await this.round;
  }

  private async run(): Promise<void> {
    try {
      while (this.waiting.size > 0) {
        const due = [...this.waiting.values()];
        this.waiting.clear();
        await Promise.all(due.map((commit) => commit().catch(this.onError)));
      }
    } finally {
      this.round = undefined; // in the same tick as the last size check: no submit falls between
    }
  }
}
