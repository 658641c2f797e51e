/**
 * The narrow Redis port: only the commands this service sends, over one keyspace (a logical DB
 * of a standalone server, or a whole cluster). Adapters over ioredis live in clients.ts; unit
 * tests of pure logic may use a plain fake.
 */
export interface ScanPort {
  /** SCAN cursor MATCH pattern COUNT count, on one node. */
  scan(cursor: string, pattern: string, count: number): Promise<[string, string[]]>;
  /**
   * Microseconds this node spent in SCAN so far (`cmdstat_scan` of `INFO commandstats`), so walks
   * are paced on Redis's own time; undefined when INFO is unavailable.
   */
  scanMicros?(): Promise<number | undefined>;
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
  /**
   * WAIT replicas timeout on every node of this keyspace: how many replicas acknowledged the
   * writes sent so far on this connection, and (only when fewer than asked) how many are
   * connected at all (INFO replication).
   */
  waitReplicas(replicas: number, timeoutMs: number): Promise<readonly ReplicaAck[]>;
}

export interface ReplicaAck {
  /** host:port of the master asked. */
  readonly node: string;
  readonly acked: number;
  /** Replicas connected to that master; equals `acked` when every asked replica acknowledged. */
  readonly connected: number;
}
