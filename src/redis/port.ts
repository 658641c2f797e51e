/**
 * The narrow Redis port: only the commands this service sends, over one keyspace (a logical DB
 * of a standalone server, or a whole cluster). Adapters over ioredis live in clients.ts; unit
 * tests of pure logic may use a plain fake.
 */
export interface ScanPort {
  /** SCAN cursor MATCH pattern COUNT count, on one node. */
  scan(cursor: string, pattern: string, count: number): Promise<[string, string[]]>;
}

export interface RedisPort {
  /** UNLINK: delete keys, reclaiming memory in the background. Resolves to the count removed. */
  unlink(keys: readonly string[]): Promise<number>;
  /** The nodes whose keyspaces together make this keyspace: itself, or every cluster master. */
  scanNodes(): readonly ScanPort[];
  /** SET key value EX ttl NX: true when set (a lock taken). */
  setNx(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  get(key: string): Promise<string | null>;
  /** GET as bytes (pickled values are not UTF-8). */
  getBuffer(key: string): Promise<Buffer | null>;
  /** EVAL of one of the scripts in scripts.ts. */
  eval(
    script: string,
    keys: readonly string[],
    args: readonly (string | number | Buffer)[],
  ): Promise<unknown>;
  ping(): Promise<string>;
}
