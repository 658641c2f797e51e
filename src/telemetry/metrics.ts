/**
 * Prometheus metrics (prom-client, a registry of the service's own, default process metrics
 * included), served by http.ts at `/metrics`. Names start with `mis_cache_sync_`; the Grafana
 * dashboard `dashboards/mis-cache-sync.json` is built on them. The `Counters` of counters.ts
 * stay as they are (the periodic stats log line); these are recorded alongside.
 *
 * Redis INFO figures are not polled: they are read when Prometheus scrapes, one INFO per server,
 * shared by every gauge of one scrape.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics, type CollectFunction } from 'prom-client';
import { LabelHistogram } from './label-histogram';
import { StateMetrics } from './state-metrics';
import type { FamilyTally, InfoSample } from './types';

export const METRIC_PREFIX = 'mis_cache_sync_';

/** 5 ms … 60 s: a healthy pipeline sits in the first buckets, an outage in the last. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** What the intake hands over about each handled event (see batch-plan.ts HandledEvent). */
export interface HandledTimes {
  readonly table: string;
  readonly op: string;
  readonly sourceTsMs?: number;
  readonly kafkaTsMs?: number;
}

/** Consecutive events of one table and op, counted: what per-batch counters add at once. */
export function tableOpRuns(handled: readonly HandledTimes[]): [string, string, number][] {
  const runs: [string, string, number][] = [];
  let last: [string, string, number] | undefined;
  for (const h of handled) {
    if (last && h.table === last[0] && h.op === last[1]) last[2]++;
    else runs.push((last = [h.table, h.op, 1]));
  }
  return runs;
}

/** How long a scrape reuses one round of INFO replies. */
const INFO_REUSE_MS = 500;

export class Metrics {
  readonly registry = new Registry();
  /** Skipping everything, pattern index trust, the daily drop's busy lock (state-metrics.ts). */
  readonly state = new StateMetrics(this.registry, METRIC_PREFIX);

  private readonly events: Counter<'table' | 'op'>;
  private readonly tombstones: Counter;
  private readonly batches: Counter;
  private readonly keysDeleted: Counter<'family'>;
  private readonly keysPatternDeleted: Counter<'family'>;
  private readonly keysRefreshed: Counter<'family'>;
  private readonly refreshFallbacks: Counter<'family'>;
  private readonly rejected: Counter<'code'>;
  private readonly deadLettered: Counter;
  private readonly retries: Counter<'code'>;
  private readonly foreignDb: Counter<'db' | 'table'>;
  private readonly lag: Gauge<'topic' | 'partition'>;
  private readonly fallbacks: Counter<'reason'>;
  private rowIndexSource: (() => Promise<{ table: string; complete: boolean }[]>) | undefined;
  private readonly commitLatency: LabelHistogram<'table'>;
  private readonly kafkaLatency: LabelHistogram<'table'>;

  private infoSource: (() => Promise<InfoSample[]>) | undefined;
  private groupJoined: (() => boolean) | undefined;
  private deadLettersPending: (() => Promise<number | undefined>) | undefined;
  private infoRound: { at: number; samples: Promise<InfoSample[]> } | undefined;

  constructor() {
    const registers = [this.registry];
    const p = METRIC_PREFIX;
    collectDefaultMetrics({ register: this.registry });
    this.events = new Counter({
      name: `${p}events_total`,
      help: 'Change events handled (decoded and planned), by table and operation (c, u, d, r, t).',
      labelNames: ['table', 'op'],
      registers,
    });
    this.foreignDb = new Counter({
      name: `${p}foreign_db_events_total`,
      help: 'Change events of databases not watched (MCS_DATABASES), skipped without touching keys.',
      labelNames: ['db', 'table'],
      registers,
    });
    this.tombstones = new Counter({
      name: `${p}tombstones_total`,
      help: 'Tombstone records skipped.',
      registers,
    });
    this.batches = new Counter({
      name: `${p}batches_total`,
      help: 'Partition batches received from Kafka.',
      registers,
    });
    this.keysDeleted = new Counter({
      name: `${p}keys_deleted_total`,
      help: 'Keys Redis removed by plain deletes (and by refreshes that fell back to deleting), by family.',
      labelNames: ['family'],
      registers,
    });
    this.keysPatternDeleted = new Counter({
      name: `${p}keys_pattern_deleted_total`,
      help: 'Keys Redis removed by pattern deletes (SCAN + UNLINK), by family.',
      labelNames: ['family'],
      registers,
    });
    this.keysRefreshed = new Counter({
      name: `${p}keys_refreshed_total`,
      help: 'Keys rebuilt from MySQL, by family.',
      labelNames: ['family'],
      registers,
    });
    this.refreshFallbacks = new Counter({
      name: `${p}refresh_fallbacks_total`,
      help: 'Refreshes that deleted the key instead (lock busy, newer version, MySQL failed), by family.',
      labelNames: ['family'],
      registers,
    });
    this.rejected = new Counter({
      name: `${p}rejected_events_total`,
      help: 'Records that are not usable change events (poison messages), by error code.',
      labelNames: ['code'],
      registers,
    });
    this.deadLettered = new Counter({
      name: `${p}dead_lettered_events_total`,
      help: 'Rejected records copied to the dead-letter topic.',
      registers,
    });
    this.retries = new Counter({
      name: `${p}retries_total`,
      help: 'Retries of a batch a dependency did not acknowledge, by error code.',
      labelNames: ['code'],
      registers,
    });
    this.lag = new Gauge({
      name: `${p}consumer_lag`,
      help: 'Records behind the end of the partition after the last batch processed (high watermark - last offset - 1).',
      labelNames: ['topic', 'partition'],
      registers,
    });
    this.commitLatency = new LabelHistogram({
      name: `${p}commit_to_redis_seconds`,
      help: 'From the commit in the database (source.ts_ms) to Redis acknowledging the batch, by table. Snapshot reads are left out.',
      labelName: 'table',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.kafkaLatency = new LabelHistogram({
      name: `${p}kafka_to_redis_seconds`,
      help: 'From the append to Kafka (record timestamp) to Redis acknowledging the batch, by table.',
      labelName: 'table',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const joined = (): boolean => this.groupJoined?.() ?? false;
    new Gauge({
      name: `${p}consumer_group_joined`,
      help: '1 while the Kafka consumer is a member of its group (joined, not crashed or stopped).',
      registers,
      collect() {
        this.set(joined() ? 1 : 0);
      },
    });
    const pending = () => this.deadLettersPending?.();
    new Gauge({
      name: `${p}dead_letters_pending`,
      help: "Records in the dead-letter topic not yet redriven: per partition, end offset minus the redrive group's committed offset (or the oldest retained offset), summed. Absent until known.",
      registers,
      async collect() {
        const n = await pending();
        if (n === undefined) this.reset();
        else this.set(n);
      },
    });
    this.redisGauges(registers);
    this.fallbacks = new Counter({
      name: `${p}fallbacks_total`,
      help: 'Fallbacks to family-wide patterns because the row index could not answer, by reason.',
      labelNames: ['reason'],
      registers,
    });
    const rowIndex = () => this.rowIndexSource;
    new Gauge({
      name: `${p}row_index_complete`,
      help: 'Whether the row index of a table is complete (1) or answers with fallbacks (0).',
      labelNames: ['table'],
      registers,
      async collect() {
        const source = rowIndex();
        if (!source) return;
        const tables = await source().catch(() => []);
        this.reset();
        for (const t of tables) this.set({ table: t.table }, t.complete ? 1 : 0);
      },
    });
  }

  /** Where scrapes read the row index's completeness per table (set once it is open). */
  setRowIndexSource(source: () => Promise<{ table: string; complete: boolean }[]>): void {
    this.rowIndexSource = source;
  }

  /** Fallbacks of one batch's resolve step, by reason. */
  rowIndexFallbacks(reasons: readonly string[]): void {
    for (const reason of reasons) this.fallbacks.inc({ reason });
  }

  /** Where scrapes read the dead letters pending from (undefined: not known, not exported). */
  setDeadLettersPendingSource(source: () => Promise<number | undefined>): void {
    this.deadLettersPending = source;
  }

  /** Where scrapes read Redis INFO from (set once the connections exist). */
  setRedisInfoSource(source: () => Promise<InfoSample[]>): void {
    this.infoSource = source;
  }

  setGroupJoined(joined: () => boolean): void {
    this.groupJoined = joined;
  }

  /** A batch as planned: its events, tombstones and rejected records. */
  recordPlan(
    handled: readonly HandledTimes[],
    tombstones: number,
    rejectedCodes: readonly string[],
  ): void {
    this.batches.inc();
    // One inc per table and op, not per event (each inc hashes its labels).
    for (const [table, op, count] of tableOpRuns(handled)) this.events.inc({ table, op }, count);
    if (tombstones > 0) this.tombstones.inc(tombstones);
    for (const code of rejectedCodes) this.rejected.inc({ code });
  }

  /** A change event of a database the service does not watch (skipped). */
  recordForeign(db: string, table: string | undefined): void {
    this.foreignDb.inc({ db, table: table ?? '' });
  }

  /** A batch Redis acknowledged at `ackMs`: per-family key counts and both latencies. */
  recordApplied(tally: FamilyTally, handled: readonly HandledTimes[], ackMs: number): void {
    for (const [family, c] of tally) {
      if (c.deleted > 0) this.keysDeleted.inc({ family }, c.deleted);
      if (c.patternDeleted > 0) this.keysPatternDeleted.inc({ family }, c.patternDeleted);
      if (c.refreshed > 0) this.keysRefreshed.inc({ family }, c.refreshed);
      if (c.refreshFallbacks > 0) this.refreshFallbacks.inc({ family }, c.refreshFallbacks);
    }
    for (const h of handled) {
      // A snapshot read's ts_ms is when the snapshot ran, not a commit.
      if (h.sourceTsMs !== undefined && h.op !== 'r') {
        this.commitLatency.observe(h.table, seconds(ackMs - h.sourceTsMs));
      }
      if (h.kafkaTsMs !== undefined) {
        this.kafkaLatency.observe(h.table, seconds(ackMs - h.kafkaTsMs));
      }
    }
  }

  deadLetteredEvents(n: number): void {
    if (n > 0) this.deadLettered.inc(n);
  }

  retry(code: string): void {
    this.retries.inc({ code });
  }

  /** After a batch: how far the partition's end is from the last offset processed. */
  consumerLag(topic: string, partition: number, highWatermark: string, lastOffset: string): void {
    const behind = Number(BigInt(highWatermark) - BigInt(lastOffset) - 1n);
    this.lag.set({ topic, partition: String(partition) }, Math.max(0, behind));
  }

  /** Partitions were (re)assigned: forget the lag of partitions this member may no longer own. */
  resetLag(): void {
    this.lag.reset();
  }

  /** The Prometheus text of every metric. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** One round of INFO replies, shared by the gauges of a scrape. */
  private infoSamples(): Promise<InfoSample[]> {
    const source = this.infoSource;
    if (!source) return Promise.resolve([]);
    const now = Date.now();
    if (!this.infoRound || now - this.infoRound.at > INFO_REUSE_MS) {
      this.infoRound = { at: now, samples: source().catch(() => []) };
    }
    return this.infoRound.samples;
  }

  private redisGauges(registers: Registry[]): void {
    const p = `${METRIC_PREFIX}redis_`;
    const infoSamples = (): Promise<InfoSample[]> => this.infoSamples();
    type Figure = Exclude<keyof NonNullable<InfoSample['figures']>, 'dbKeys'>;
    const fromInfo = (pick: (s: InfoSample) => number | undefined) =>
      async function collect(this: Gauge<'server'> | Counter<'server'>): Promise<void> {
        const samples = await infoSamples();
        this.reset();
        for (const s of samples) {
          const value = pick(s);
          if (value === undefined) continue;
          if (this instanceof Gauge) this.set({ server: s.server }, value);
          else this.inc({ server: s.server }, value);
        }
      };
    const figure = (name: Figure) => (s: InfoSample) => s.figures?.[name];
    const gauge = (name: string, help: string, pick: (s: InfoSample) => number | undefined) =>
      new Gauge({
        name: `${p}${name}`,
        help,
        labelNames: ['server'],
        registers,
        collect: fromInfo(pick) as CollectFunction<Gauge<'server'>>,
      });
    // Redis's own running totals, exposed as counters (they reset only when Redis restarts).
    const counter = (name: string, help: string, pick: (s: InfoSample) => number | undefined) =>
      new Counter({
        name: `${p}${name}`,
        help,
        labelNames: ['server'],
        registers,
        collect: fromInfo(pick) as CollectFunction<Counter<'server'>>,
      });
    gauge('up', '1 when the server answered INFO at this scrape, else 0.', (s) =>
      s.figures ? 1 : 0,
    );
    gauge(
      'keyspace_hit_ratio',
      'keyspace_hits / (keyspace_hits + keyspace_misses) since the server started (INFO stats).',
      figure('hitRatio'),
    );
    gauge('used_memory_bytes', 'used_memory (INFO memory).', figure('usedMemory'));
    gauge('maxmemory_bytes', 'maxmemory (INFO memory); 0 means no limit.', figure('maxMemory'));
    counter('keyspace_hits_total', 'keyspace_hits (INFO stats).', figure('keyspaceHits'));
    counter('keyspace_misses_total', 'keyspace_misses (INFO stats).', figure('keyspaceMisses'));
    counter('evicted_keys_total', 'evicted_keys (INFO stats).', figure('evictedKeys'));
    counter('expired_keys_total', 'expired_keys (INFO stats).', figure('expiredKeys'));
    new Gauge({
      name: `${p}db_keys`,
      help: 'Keys per logical DB (INFO keyspace).',
      labelNames: ['server', 'db'],
      registers,
      async collect() {
        const samples = await infoSamples();
        this.reset();
        for (const s of samples) {
          for (const [db, keys] of Object.entries(s.figures?.dbKeys ?? {})) {
            this.set({ server: s.server, db }, keys);
          }
        }
      },
    });
  }
}

function seconds(ms: number): number {
  return Math.max(0, ms) / 1000;
}
