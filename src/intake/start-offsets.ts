/**
 * Start offsets made concrete. A partition without a committed offset starts where the reset
 * policy says (earliest or latest), but only in the member that fetches it: after a rebalance
 * the next owner resolves the policy again, and `latest` then lies past whatever the first
 * owner fetched and did not yet commit, while a client that keeps its fetch position (no commit
 * to go back to) lies past what it dropped. So each client commits a concrete start before
 * records can be dropped: for the partitions without a commit when it starts (while the group
 * has no member yet, `latest` only: `seedStarts`), and the first offset of the first batch of each partition
 * in each generation before that batch is applied. A later owner then always resumes from an
 * offset that nothing after it was applied before.
 */

/** One partition as the admin API sees it before the member joins. */
export interface PartitionState {
  readonly partition: number;
  /** The group's committed offset; undefined when there is none (-1). */
  readonly committed: bigint | undefined;
  /** Oldest retained offset. */
  readonly low: bigint;
  /** The offset the next record gets. */
  readonly high: bigint;
}

/**
 * The offsets to commit for the partitions that have none: `latest` made concrete. `earliest`
 * needs none: resolved again it lands at or before anything fetched (what retention removed
 * meanwhile is gone either way), and seeding costs the kafkajs admin a group join per topic.
 */
export function seedStarts(
  partitions: readonly PartitionState[],
  fromBeginning: boolean,
): { partition: number; offset: bigint }[] {
  if (fromBeginning) return [];
  return partitions
    .filter((p) => p.committed === undefined)
    .map((p) => ({ partition: p.partition, offset: p.high }));
}

/** A committed offset as the admin APIs report it (-1 or '' : none). */
export function committedOf(offset: string | bigint | undefined): bigint | undefined {
  if (offset === undefined || offset === '') return undefined;
  const n = BigInt(offset);
  return n < 0n ? undefined : n;
}
