/**
 * Source freshness from Debezium's heartbeats: the age of the newest source moment the service
 * knows it has applied, also while the tables are quiet (lag 0 cannot tell "nothing happened"
 * from "Debezium stopped").
 *
 * A heartbeat (topic `<topic.heartbeat.prefix>.<topic.prefix>`, value `{ts_ms}`) says the
 * connector had read the binlog up to `ts_ms` and handed every change before it to Kafka. It
 * counts as applied only once the intake's consumer group has committed, on every change topic
 * partition, at least the end offset that partition had when the heartbeat was read: commits
 * follow Redis' acknowledgement, so the moment is never claimed early, and the group's offsets
 * cover every instance's partitions. A stopped Connect, a stalled task or a binlog the connector
 * cannot read sends no heartbeat; a stalled intake commits nothing: either way the age grows.
 *
 * Runs on kafkajs like the operator tools (a member of a one-off group of its own per instance,
 * reading only new heartbeats; the group is deleted at stop).
 */
import { randomBytes } from 'node:crypto';
import type { Admin, EachBatchPayload, Kafka } from 'kafkajs';
import { errorMessage } from '../core/errors';
import type { Logger } from '../telemetry/logger';
import { TopicFollower } from './topic-reader';

export interface HeartbeatOptions {
  readonly kafka: Kafka;
  readonly heartbeatTopic: string;
  /** The connector's `topic.prefix`: the gauge's `connector` label. */
  readonly connector: string;
  /** The intake's group and the change topics it follows. */
  readonly groupId: string;
  readonly changeTopics: readonly string[];
  readonly sessionTimeoutMs: number;
  readonly logger: Logger;
  /** How often pending heartbeats are held against the committed offsets. */
  readonly settleEveryMs?: number;
  readonly now?: () => number;
}

/** A heartbeat read, waiting for the intake's commits to pass the ends seen with it. */
interface Pending {
  readonly tsMs: number;
  readonly ends: ReadonlyMap<string, bigint>;
}

/** At most this many heartbeats wait (older ones are superseded by newer ones anyway). */
const MAX_PENDING = 256;

export class SourceFreshness {
  private readonly follower: TopicFollower;
  private readonly admin: Admin;
  private readonly groupId: string;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly startedMs: number;
  private pending: Pending[] = [];
  private appliedMs: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private settling: Promise<void> | undefined;

  constructor(private readonly options: HeartbeatOptions) {
    this.now = options.now ?? Date.now;
    this.startedMs = this.now();
    this.log = options.logger.child({ component: 'heartbeats' });
    this.groupId = `${options.groupId}-heartbeats-${randomBytes(4).toString('hex')}`;
    this.admin = options.kafka.admin();
    this.follower = new TopicFollower({
      kafka: options.kafka,
      groupId: this.groupId,
      sessionTimeoutMs: options.sessionTimeoutMs,
    });
  }

  /** Joins (the heartbeat topic must exist) and starts settling; resolves once joined. */
  async start(): Promise<void> {
    await this.admin.connect();
    await this.follower.start({
      topics: [this.options.heartbeatTopic],
      fromBeginning: false,
      eachBatch: (payload) => this.onBatch(payload),
    });
    this.timer = setInterval(() => void this.settle(), this.options.settleEveryMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.settling;
    await this.follower.stop();
    await this.admin.deleteGroups([this.groupId]).catch(() => undefined);
    await this.admin.disconnect();
  }

  /**
   * Seconds since the newest source moment known applied, per connector; until one is known,
   * since this instance started (a connector that never beats shows as ageing).
   */
  ages(): ReadonlyMap<string, number> {
    const since = this.appliedMs ?? this.startedMs;
    return new Map([[this.options.connector, Math.max(0, this.now() - since) / 1000]]);
  }

  /** The newest source moment known applied (ms), if any yet. */
  get appliedSourceMs(): number | undefined {
    return this.appliedMs;
  }

  private async onBatch({ batch }: EachBatchPayload): Promise<void> {
    let newest: number | undefined;
    for (const m of batch.messages) {
      // Avro values (registry framing) are not parsed: the record's own time is when the
      // connector produced the heartbeat, the same moment within milliseconds.
      const ts = heartbeatTs(m.value) ?? recordTime(m.timestamp);
      if (ts === undefined) {
        this.log.warn(
          { topic: batch.topic, partition: batch.partition, offset: m.offset },
          'heartbeat record without ts_ms or timestamp: ignored',
        );
      } else newest = Math.max(newest ?? ts, ts);
    }
    if (newest === undefined || (this.appliedMs !== undefined && newest <= this.appliedMs)) return;
    // The ends are read after the heartbeat: they include every change before it.
    const ends = await this.endOffsets();
    this.pending.push({ tsMs: newest, ends });
    if (this.pending.length > MAX_PENDING)
      this.pending.splice(0, this.pending.length - MAX_PENDING);
    await this.settle();
  }

  /** Marks applied the newest pending heartbeat whose ends the group's commits reached. */
  private settle(): Promise<void> {
    if (this.pending.length === 0) return Promise.resolve();
    this.settling ??= this.settleOnce()
      .catch((err) =>
        this.log.warn({ error: errorMessage(err) }, 'heartbeats: committed offsets unreadable'),
      )
      .finally(() => (this.settling = undefined));
    return this.settling;
  }

  private async settleOnce(): Promise<void> {
    const committed = await this.committedOffsets();
    let reached = -1;
    this.pending.forEach((p, i) => {
      if ([...p.ends].every(([k, end]) => (committed.get(k) ?? -1n) >= end)) reached = i;
    });
    if (reached < 0) return;
    const hit = this.pending[reached];
    if (hit) this.appliedMs = Math.max(this.appliedMs ?? hit.tsMs, hit.tsMs);
    this.pending = this.pending.slice(reached + 1);
  }

  private async endOffsets(): Promise<Map<string, bigint>> {
    const ends = new Map<string, bigint>();
    for (const topic of this.options.changeTopics) {
      for (const p of await this.admin.fetchTopicOffsets(topic)) {
        // An empty partition (nothing retained) has nothing to wait for.
        if (p.high !== p.low) ends.set(`${topic}:${p.partition}`, BigInt(p.high));
      }
    }
    return ends;
  }

  private async committedOffsets(): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>();
    const rows = await this.admin.fetchOffsets({
      groupId: this.options.groupId,
      topics: [...this.options.changeTopics],
    });
    for (const { topic, partitions } of rows)
      for (const p of partitions) out.set(`${topic}:${p.partition}`, BigInt(p.offset));
    return out;
  }
}

/** `ts_ms` of a heartbeat value, with or without the JSON converter's schema wrapper. */
export function heartbeatTs(value: Buffer | null): number | undefined {
  if (!value || value.length === 0) return undefined;
  try {
    const json = JSON.parse(value.toString('utf8')) as Record<string, unknown>;
    const body = (
      json && typeof json === 'object' && 'payload' in json ? json.payload : json
    ) as Record<string, unknown> | null;
    const ts = body?.ts_ms;
    return typeof ts === 'number' && Number.isFinite(ts) ? ts : undefined;
  } catch {
    return undefined;
  }
}

function recordTime(timestamp: string | undefined): number | undefined {
  const n = Number(timestamp);
  return timestamp !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
}
