/**
 * The narrow Redis port: only the commands this service sends. Anything that satisfies it
 * (an ioredis client on one logical DB, a fake in unit tests) can be executed against.
 */
export interface RedisPort {
  /** UNLINK: delete keys, reclaiming memory in the background. Resolves to the count removed. */
  unlink(...keys: string[]): Promise<number>;
  /** SCAN cursor MATCH pattern COUNT count. */
  scan(
    cursor: string,
    matchOption: 'MATCH',
    pattern: string,
    countOption: 'COUNT',
    count: number,
  ): Promise<[string, string[]]>;
  ping(): Promise<string>;
}
