/**
 * The pattern index of a Redis Cluster: one NodeIndex (pattern-index.ts) per master, DB 0.
 * Keyspace notifications in a cluster are per node (a node only notifies about its own keys), so
 * each master has its own subscriber, its own fence and marker keys (a hash tag of a slot that
 * master owns, so the fence is notified by that very node) and its own rebuild, which walks that
 * master only.
 *
 * The coordinator keeps a snapshot of the slot ownership (ioredis's slot table, refreshed with
 * CLUSTER SLOTS every few seconds and compared at every pattern delete). A master whose slot
 * ranges changed (failover, slot migration) gets a fresh index, rebuilt before it answers; a new
 * master (a promoted replica) gets its own; a gone master's index is closed. Each change bumps
 * `generation`, so a delete that ran across a change is done again on the new owners. A key
 * moved by MIGRATE notifies `del` on the source and `restore` on the target, so both indexes
 * follow it anyway; the ownership check is the safety net (and covers keys written to a master
 * while its subscriber was not yet there).
 */
import calculateSlot from 'cluster-key-slot';
import Redis, { type Cluster } from 'ioredis';
import { errorMessage } from '../core/errors';
import type { Logger } from '../telemetry/logger';
import { scanUsec } from '../redis/clients';
import type { RedisPort, ScanPort } from '../redis/port';
import type { WalkBudget } from '../redis/walk-budget';
import type { PatternClass } from './pattern-classes';
import { NodeIndex, type TrustState } from './pattern-index';

/** How often the slot table is reloaded (CLUSTER SLOTS) and compared with the snapshot. */
const SYNC_MS = 2_000;
/**
 * Bound of every command on a master's own connection. A command queued while the node is down
 * would otherwise wait for good once the connection is closed (ioredis does not reject its
 * offline queue on a disconnect during a reconnect): a walk step holding the shared walk
 * budget, or a fence, would stall every later walk and delete.
 */
const COMMAND_TIMEOUT_MS = 5_000;

/** One master of the snapshot: its slot ranges, connection, walk port and index. */
export interface ClusterMaster {
  /** host:port, as in the slot table. */
  readonly server: string;
  /** Its slot ranges, `a-b,c-d`: the snapshot compared at every sync. */
  readonly ranges: string;
  /** scanNodes() is this master only; everything else goes through the cluster port. */
  readonly port: RedisPort;
  readonly index: NodeIndex;
  readonly client: Redis;
}

export interface ClusterIndexOptions {
  readonly cluster: Cluster;
  /** The cluster port: UNLINKs of answered keys (grouped per slot) and walks' deletes. */
  readonly port: RedisPort;
  readonly classes: readonly PatternClass[];
  readonly budget: WalkBudget;
  readonly scanCount: number;
  readonly fenceTimeoutMs: number;
  readonly logger: Logger;
  /** Checks (or sets, in `configure` mode) notify-keyspace-events on a new master. */
  readonly prepare: (client: Redis) => Promise<void>;
  readonly onState?: (server: string, state: TrustState, reason: string) => void;
}

export class ClusterIndex {
  /** Bumped at every change of the masters' set or slot ranges. */
  generation = 0;
  private masters = new Map<string, ClusterMaster>();
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: ClusterIndexOptions) {}

  /** The current masters (a snapshot: the map is replaced, never changed in place). */
  get current(): readonly ClusterMaster[] {
    return [...this.masters.values()];
  }

  /** Per-master walk port → index (metrics, tests, the bench). */
  get indexes(): ReadonlyMap<RedisPort, NodeIndex> {
    return new Map(this.current.map((m) => [m.port, m.index]));
  }

  /** First snapshot (an unloaded table is retried by the timer), then the periodic check. */
  async start(): Promise<void> {
    await this.sync().catch((err: unknown) =>
      this.opts.logger.warn(
        { error: errorMessage(err) },
        'pattern index: cluster slot table not loaded yet; retried',
      ),
    );
    this.timer = setInterval(() => void this.refresh(), SYNC_MS);
    this.timer.unref();
  }

  private async refresh(): Promise<void> {
    try {
      await new Promise<void>((resolve, reject) =>
        this.opts.cluster.refreshSlotsCache((err) => (err ? reject(err) : resolve())),
      );
    } catch {
      // a refresh already under way, or no node answered: compare what is known
    }
    await this.sync().catch((err: unknown) =>
      this.opts.logger.debug({ error: errorMessage(err) }, 'pattern index: cluster sync failed'),
    );
  }

  /**
   * Compares ioredis's slot table with the snapshot and follows it: changed or new masters get a
   * fresh index, gone masters' indexes are closed. Throws when a slot has no known master.
   */
  sync(): Promise<void> {
    const run = this.chain.then(() => this.syncNow());
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async syncNow(): Promise<void> {
    if (this.closed) return;
    const table = slotRanges(this.opts.cluster);
    const changed =
      table.size !== this.masters.size ||
      [...table].some(([server, ranges]) => this.masters.get(server)?.ranges !== ranges);
    if (!changed) return;
    const next = new Map<string, ClusterMaster>();
    const retired: ClusterMaster[] = [];
    for (const [server, m] of this.masters) {
      if (table.get(server) === m.ranges) next.set(server, m);
      else retired.push(m);
    }
    this.generation += 1;
    for (const m of retired)
      this.retire(m, table.has(m.server) ? 'slot ranges changed' : 'no longer a master');
    for (const [srv, ranges] of table) {
      if (next.has(srv)) continue;
      next.set(srv, await this.open(srv, ranges));
    }
    this.masters = next;
    this.generation += 1;
    this.opts.logger.info(
      { masters: [...table].map(([s, r]) => `${s} ${r}`) },
      'pattern index: cluster masters (re)indexed',
    );
  }

  private retire(m: ClusterMaster, reason: string): void {
    this.opts.onState?.(m.server, 'untrusted', reason);
    void m.index.close().finally(() => m.client.disconnect());
  }

  private async open(srv: string, ranges: string): Promise<ClusterMaster> {
    const i = srv.lastIndexOf(':');
    // A connection of its own (not ioredis's pooled one, which the pool ends and replaces when
    // the node blips): the fence's SET and the feed's CONFIG GET go to this node only.
    const client = new Redis({
      ...this.opts.cluster.options.redisOptions,
      host: srv.slice(0, i),
      port: Number(srv.slice(i + 1)),
      connectionName: 'mis-cache-sync:pattern-index',
      lazyConnect: true,
      commandTimeout: COMMAND_TIMEOUT_MS,
    });
    client.on('error', (err: Error) =>
      this.opts.logger.debug({ server: srv, err: err.message }, 'pattern index connection error'),
    );
    await this.opts.prepare(client).catch(() => undefined);
    const port = masterPort(client, this.opts.port);
    const logger = this.opts.logger.child({ server: srv });
    const index = new NodeIndex({
      client,
      port,
      db: 0,
      classes: this.opts.classes,
      budget: this.opts.budget,
      scanCount: this.opts.scanCount,
      fenceTimeoutMs: this.opts.fenceTimeoutMs,
      logger,
      keyTag: ownTag(ranges),
      onState: (state, reason) => this.opts.onState?.(srv, state, reason),
    });
    await index.start();
    return { server: srv, ranges, port, index, client };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.chain;
    await Promise.all(
      this.current.map((m) => m.index.close().finally(() => m.client.disconnect())),
    );
    this.masters = new Map();
  }
}

/** master host:port → its slot ranges (`0-5460,…`); throws when a slot has no master. */
function slotRanges(cluster: Cluster): Map<string, string> {
  const ranges = new Map<string, [number, number][]>();
  for (let slot = 0; slot < 16384; slot++) {
    const master = cluster.slots[slot]?.[0];
    if (master === undefined)
      throw new Error(`redis cluster: slot ${slot} has no known master (topology not loaded)`);
    let list = ranges.get(master);
    if (!list) ranges.set(master, (list = []));
    const last = list[list.length - 1];
    if (last && last[1] === slot - 1) last[1] = slot;
    else list.push([slot, slot]);
  }
  return new Map([...ranges].map(([m, list]) => [m, list.map(([a, b]) => `${a}-${b}`).join(',')]));
}

/** The first `pN` hash tag whose slot lies in the ranges: fence and marker keys on that master. */
export function ownTag(ranges: string): string {
  const spans = ranges.split(',').map((r) => r.split('-').map(Number) as [number, number]);
  // a master owns at least one slot; one slot is found within ~16k tries on average
  for (let n = 0; n < 10_000_000; n++) {
    const slot = calculateSlot(`p${n}`);
    if (spans.some(([a, b]) => slot >= a && slot <= b)) return `p${n}`;
  }
  throw new Error(`no hash tag found for slots ${ranges}`);
}

/** The cluster port narrowed to one master for walks: SCAN on that node, the rest per slot. */
function masterPort(client: Redis, cluster: RedisPort): RedisPort {
  const scanner: ScanPort = {
    scan: (cursor, pattern, count) => client.scan(cursor, 'MATCH', pattern, 'COUNT', count),
    scanMicros: async () => scanUsec(await client.info('commandstats')),
  };
  return { ...cluster, scanNodes: () => [scanner] };
}
