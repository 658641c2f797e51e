/**
 * The ≥ 100,000-change soak per fault (`npm run test:soak`): users with one `user_auth` row
 * each, inserted once; per fault, both keys of every user (`permissions:user:` and
 * `session:user:`) are planted, then every row is flipped by multi-row UPDATEs (one statement,
 * `BATCH` rows, `BATCH` change events through binlog → Debezium → Kafka → service) with the
 * fault injected mid-stream. A lost invalidation is a planted key still present once the
 * service has consumed every event. RSS of the service processes and the group's lag are
 * sampled every second; each fault prints one `SOAK` line.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionPool } from '@databases/mysql';
import type Redis from 'ioredis';
import type { Admin } from 'kafkajs';
import { kafka, sql, uniqId, waitFor } from './stack';

export const SOAK_CHANGES = Number(process.env.SOAK_CHANGES || 100_000);
/** How long the writes of one fault are spread over (the fault lands a third of the way in). */
export const SOAK_WRITE_MS = Number(process.env.SOAK_WRITE_MS || 90_000);
const BATCH = 1000;
const KEYS_PER_CALL = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A contiguous id range of users, each with exactly one `user_auth` row. */
export interface SoakUsers {
  readonly first: number;
  readonly count: number;
}

/** Inserts the users' rows and waits until Debezium has put every insert on `topic`. */
export async function insertSoakUsers(
  db: ConnectionPool,
  topic: string,
  count = SOAK_CHANGES,
): Promise<SoakUsers> {
  const admin = kafka().admin();
  await admin.connect();
  const before = await topicRecords(admin, topic);
  const first = uniqId();
  for (let i = 0; i < count; i += BATCH) {
    const ids = Array.from({ length: Math.min(BATCH, count - i) }, (_, j) => first + i + j);
    const rows = ids.map((u) => sql`(${u}, 1, 'Y')`);
    await db.query(
      sql`INSERT INTO user_auth (user_id, menu_id, read_yn) VALUES ${sql.join(rows, ', ')}`,
    );
  }
  try {
    const inserted = async () => (await topicRecords(admin, topic)) >= before + count;
    await waitFor(inserted, 20 * 60_000, `${count} inserts on ${topic}`, 1000);
  } finally {
    await admin.disconnect();
  }
  return { first, count };
}

export async function deleteSoakUsers(db: ConnectionPool, users: SoakUsers): Promise<void> {
  const last = users.first + users.count - 1;
  for (let from = users.first; from <= last; from += 10 * BATCH) {
    const to = Math.min(last, from + 10 * BATCH - 1);
    await db.query(sql`DELETE FROM user_auth WHERE user_id BETWEEN ${from} AND ${to}`);
  }
}

/**
 * Where the two keys of a user live: `permissions:user:<id>` and `session:user:<id>` belong to
 * families with DBs of their own (MCS_REDIS_DB_PERMISSIONS 1, MCS_REDIS_DB_SESSION 0).
 */
export interface SoakCaches {
  readonly permissions: Redis;
  readonly session: Redis;
}

/** The keys a change of these users must remove, per client, in chunks of one call each. */
function* keyChunks(caches: SoakCaches, users: SoakUsers): Generator<[Redis, string[]]> {
  const perChunk = KEYS_PER_CALL;
  for (const family of ['permissions', 'session'] as const)
    for (let i = 0; i < users.count; i += perChunk) {
      const keys: string[] = [];
      for (let u = users.first + i; u < users.first + Math.min(users.count, i + perChunk); u++)
        keys.push(`${family}:user:${u}`);
      yield [caches[family], keys];
    }
}

export const expectedKeys = (users: SoakUsers) => 2 * users.count;

/** Arms both keys of every user. */
export async function plantKeys(caches: SoakCaches, users: SoakUsers): Promise<void> {
  for (const [cache, keys] of keyChunks(caches, users)) {
    const pipe = cache.pipeline();
    for (const key of keys) pipe.set(key, '{"admin_user":{"read":true}}', 'EX', 3600);
    await pipe.exec();
  }
}

export async function countPresent(caches: SoakCaches, users: SoakUsers): Promise<number> {
  let present = 0;
  for (const [cache, keys] of keyChunks(caches, users)) present += await cache.exists(...keys);
  return present;
}

export async function removeKeys(caches: SoakCaches, users: SoakUsers): Promise<void> {
  for (const [cache, keys] of keyChunks(caches, users)) await cache.del(...keys);
}

/**
 * Flips `read_yn` of every user once (one change event per user), `BATCH` rows per UPDATE,
 * spread over about `durationMs`. The fault starts before the batch at `faultAt` (0..1) and is
 * not awaited: the writes go on meanwhile. Resolves with the time of the last write and of the
 * fault's end.
 */
export async function changeAll(
  db: ConnectionPool,
  users: SoakUsers,
  opts: { durationMs: number; faultAt: number; fault: () => Promise<void> },
): Promise<{ lastWriteAt: number; faultEndedAt: number }> {
  const batches = Math.ceil(users.count / BATCH);
  const faultBatch = Math.floor(batches * opts.faultAt);
  let faultRun: Promise<number> | undefined;
  const started = Date.now();
  for (let b = 0; b < batches; b++) {
    if (b === faultBatch) faultRun = opts.fault().then(() => Date.now());
    const from = users.first + b * BATCH;
    const to = Math.min(users.first + users.count, from + BATCH) - 1;
    await db.query(
      sql`UPDATE user_auth SET read_yn = IF(read_yn = 'Y', 'N', 'Y') WHERE user_id BETWEEN ${from} AND ${to}`,
    );
    const due = started + ((b + 1) * opts.durationMs) / batches;
    if (due > Date.now()) await sleep(due - Date.now());
  }
  const lastWriteAt = Date.now();
  return { lastWriteAt, faultEndedAt: await (faultRun ?? Promise.resolve(lastWriteAt)) };
}

/** Records in the topic so far (sum of the partitions' end offsets). */
export async function topicRecords(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high), 0);
}

/**
 * The group's lag on the topics: end offset minus committed offset, summed over the partitions
 * the group has committed on (a new group starts at the end: MCS_FROM_BEGINNING=false).
 */
async function groupLag(admin: Admin, groupId: string, topics: string[]): Promise<number> {
  let lag = 0;
  for (const topic of topics) {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    for (const end of ends) {
      const c = committed?.partitions.find((p) => p.partition === end.partition);
      if (c && Number(c.offset) >= 0) lag += Math.max(0, Number(end.high) - Number(c.offset));
    }
  }
  return lag;
}

/** Resident set size of a process in MiB (VmRSS), or 0 once it is gone. */
function rssMiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

export interface SoakSamples {
  peakRssMiB: number;
  maxLag: number;
  samples: number;
  lagSamples: number;
}

/**
 * Every second: the RSS of each live service process (the peak of any one process) and the
 * group's lag on `topics`. A lag sample that fails (the broker is down) is skipped and counted.
 */
export function startSampler(
  pids: () => number[],
  groupId: string,
  topics: string[],
): { stop(): Promise<SoakSamples> } {
  const result: SoakSamples = { peakRssMiB: 0, maxLag: 0, samples: 0, lagSamples: 0 };
  let running = true;
  const loop = (async () => {
    let admin: Admin | undefined;
    while (running) {
      const tick = Date.now();
      result.samples += 1;
      for (const pid of pids()) result.peakRssMiB = Math.max(result.peakRssMiB, rssMiB(pid));
      try {
        if (!admin) {
          admin = kafka().admin();
          await admin.connect();
        }
        result.maxLag = Math.max(result.maxLag, await groupLag(admin, groupId, topics));
        result.lagSamples += 1;
      } catch {
        await admin?.disconnect().catch(() => undefined);
        admin = undefined;
      }
      await sleep(Math.max(0, 1000 - (Date.now() - tick)));
    }
    await admin?.disconnect().catch(() => undefined);
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return result;
    },
  };
}

/**
 * Waits until every planted key is gone, or until the topic holds every change
 * (`expectedRecords`), the group has consumed it all, and the count of keys still present has
 * not moved for 30 s: those keys are lost invalidations. Returns the count and when it settled.
 */
export async function waitSettled(
  caches: SoakCaches,
  users: SoakUsers,
  opts: { groupId: string; topic: string; expectedRecords: number },
  timeoutMs = 20 * 60_000,
): Promise<{ present: number; settledAt: number }> {
  const admin = kafka().admin();
  await admin.connect();
  let present = -1;
  let movedAt = Date.now();
  try {
    await waitFor(
      async () => {
        const now = await countPresent(caches, users).catch(() => -1);
        if (now === 0) return ((present = 0), true);
        if (now !== present) movedAt = Date.now();
        present = now;
        if (now < 0 || Date.now() - movedAt < 30_000) return false;
        const records = await topicRecords(admin, opts.topic).catch(() => 0);
        if (records < opts.expectedRecords) return false;
        return (await groupLag(admin, opts.groupId, [opts.topic]).catch(() => 1)) === 0;
      },
      timeoutMs,
      'every planted key gone, or every change consumed',
      2000,
    );
  } finally {
    await admin.disconnect();
  }
  return { present, settledAt: Date.now() };
}

export interface SoakFigures {
  changes: number;
  expected: number;
  present: number;
  /** From the end of the fault (part restarted, replica promoted, …) to every key gone. */
  settleMs: number;
  afterLastWriteMs: number;
  samples: SoakSamples;
  detail?: string;
}

export function soakLine(kind: string, f: SoakFigures): string {
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return (
    `SOAK ${kind}: changes=${f.changes}, keys expected gone=${f.expected}, still present=${f.present}, ` +
    `settled ${s(f.settleMs)} after the fault ended (${s(f.afterLastWriteMs)} after the last write), ` +
    `peak RSS ${f.samples.peakRssMiB.toFixed(0)} MiB, max lag ${f.samples.maxLag} ` +
    `(${f.samples.lagSamples}/${f.samples.samples} lag samples)` +
    `${f.detail ? `, ${f.detail}` : ''}, load ${load}`
  );
}

/**
 * One fault over every soak user: plant the keys, flip every row with `fault` a third of the
 * way in, wait until settled; samples, counts and prints the `SOAK` line.
 */
export async function soakFault(
  ctx: {
    db: ConnectionPool;
    caches: SoakCaches;
    users: SoakUsers;
    groupId: string;
    topic: string;
    pids: () => number[];
    /** Runs once the keys are planted (Sentinel: wait until the replica holds them). */
    armed?: () => Promise<void>;
    /** Where the keys are counted after the fault (the promoted master after a failover). */
    checkCaches?: () => SoakCaches;
  },
  kind: string,
  fault: () => Promise<void>,
  detail: () => string = () => '',
): Promise<SoakFigures> {
  await plantKeys(ctx.caches, ctx.users);
  await ctx.armed?.();
  await waitGroupStable(ctx.groupId);
  const admin = kafka().admin();
  await admin.connect();
  const before = await topicRecords(admin, ctx.topic);
  await admin.disconnect();
  const sampler = startSampler(ctx.pids, ctx.groupId, [ctx.topic]);
  let samples: SoakSamples | undefined;
  try {
    const writes = await changeAll(ctx.db, ctx.users, {
      durationMs: SOAK_WRITE_MS,
      faultAt: 0.3,
      fault,
    });
    const check = ctx.checkCaches?.() ?? ctx.caches;
    const { present, settledAt } = await waitSettled(check, ctx.users, {
      groupId: ctx.groupId,
      topic: ctx.topic,
      expectedRecords: before + ctx.users.count,
    });
    samples = await sampler.stop();
    const figures: SoakFigures = {
      changes: ctx.users.count,
      expected: expectedKeys(ctx.users),
      present,
      settleMs: settledAt - writes.faultEndedAt,
      afterLastWriteMs: settledAt - writes.lastWriteAt,
      samples,
      detail: detail(),
    };
    console.log(soakLine(kind, figures));
    return figures;
  } finally {
    if (!samples) await sampler.stop();
  }
}

/** Resolves once the group is Stable with every member assigned (a new group starts at the end). */
export async function waitGroupStable(groupId: string, timeoutMs = 120_000): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    await waitFor(
      async () => {
        const { groups } = await admin.describeGroups([groupId]);
        const g = groups[0];
        return g?.state === 'Stable' && g.members.every((m) => m.memberAssignment.length > 0);
      },
      timeoutMs,
      `group ${groupId} to be stable`,
      500,
    );
  } finally {
    await admin.disconnect();
  }
}

/**
 * Commits the group's offsets at the end of every topic before its first member starts, once
 * `quietTopic` has stopped growing, so a new group reads only what the soak writes next.
 */
export async function startGroupAtEnd(
  groupId: string,
  topics: string[],
  quietTopic: string,
): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    // Debezium may still be producing earlier changes: wait until the topic stops growing.
    let last = -1;
    let since = Date.now();
    await waitFor(
      async () => {
        const now = await topicRecords(admin, quietTopic);
        if (now !== last) [last, since] = [now, Date.now()];
        return Date.now() - since >= 10_000;
      },
      20 * 60_000,
      `${quietTopic} to stop growing`,
      1000,
    );
    // Explicit offsets: resetOffsets(latest) stores -1, which a consumer reads as "no offset"
    // and then starts from the beginning.
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      const partitions = ends.map((p) => ({ partition: p.partition, offset: p.high }));
      await admin.setOffsets({ groupId, topic, partitions });
    }
  } finally {
    await admin.disconnect();
  }
}
