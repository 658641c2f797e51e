/**
 * SourceFreshness' rule, on a fake kafkajs: a heartbeat counts as applied only once the intake
 * group's committed offsets reach, on every change partition, the end offsets read with it.
 */
import type { EachBatchPayload, Kafka } from 'kafkajs';
import { SourceFreshness } from '../../../src/intake/heartbeats';
import { silentLogger } from '../../../src/telemetry/logger';

function fakeKafka() {
  const state = {
    ends: new Map<string, { high: string; low: string }>([['t.a:0', { high: '10', low: '0' }]]),
    committed: new Map<string, string>([['t.a:0', '10']]),
    eachBatch: undefined as ((p: EachBatchPayload) => Promise<void>) | undefined,
  };
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    deleteGroups: async () => undefined,
    fetchTopicOffsets: async (topic: string) =>
      [...state.ends]
        .filter(([k]) => k.startsWith(`${topic}:`))
        .map(([k, v]) => ({ partition: Number(k.split(':')[1]), offset: v.high, ...v })),
    fetchOffsets: async ({ topics }: { topics: string[] }) =>
      topics.map((topic) => ({
        topic,
        partitions: [...state.committed]
          .filter(([k]) => k.startsWith(`${topic}:`))
          .map(([k, offset]) => ({ partition: Number(k.split(':')[1]), offset })),
      })),
  };
  const consumer = {
    events: { GROUP_JOIN: 'join' },
    on: (_e: string, fn: () => void) => {
      setImmediate(fn);
      return () => undefined;
    },
    connect: async () => undefined,
    subscribe: async () => undefined,
    run: async ({ eachBatch }: { eachBatch: (p: EachBatchPayload) => Promise<void> }) => {
      state.eachBatch = eachBatch;
    },
    disconnect: async () => undefined,
  };
  const kafka = { admin: () => admin, consumer: () => consumer } as unknown as Kafka;
  return { kafka, state };
}

const beat = (ts: number) =>
  ({
    batch: {
      topic: '__debezium-heartbeat.mis',
      partition: 0,
      messages: [{ offset: '0', value: Buffer.from(JSON.stringify({ payload: { ts_ms: ts } })) }],
    },
  }) as unknown as EachBatchPayload;

describe('SourceFreshness', () => {
  it('counts a heartbeat only once the group committed past the ends read with it', async () => {
    const { kafka, state } = fakeKafka();
    let now = 1_000_000;
    const f = new SourceFreshness({
      kafka,
      heartbeatTopic: '__debezium-heartbeat.mis',
      connector: 'mis',
      groupId: 'g',
      changeTopics: ['t.a'],
      sessionTimeoutMs: 30_000,
      logger: silentLogger(),
      settleEveryMs: 60_000,
      now: () => now,
    });
    await f.start();
    // Nothing applied yet: it ages from the start.
    now += 5_000;
    expect(f.ages().get('mis')).toBe(5);

    // Caught up (committed 10 = end 10): the heartbeat is applied at once.
    await state.eachBatch?.(beat(1_004_000));
    expect(f.appliedSourceMs).toBe(1_004_000);
    expect(f.ages().get('mis')).toBe(1);

    // A change arrived (end 12) but is not committed yet: the next heartbeat waits.
    state.ends.set('t.a:0', { high: '12', low: '0' });
    await state.eachBatch?.(beat(1_005_000));
    expect(f.appliedSourceMs).toBe(1_004_000);
    // One of two committed: still not applied.
    state.committed.set('t.a:0', '11');
    await state.eachBatch?.(beat(1_004_500)); // older than applied: ignored, settles again
    expect(f.appliedSourceMs).toBe(1_004_000);
    // Both committed: the waiting heartbeat is applied.
    state.committed.set('t.a:0', '12');
    await state.eachBatch?.(beat(1_006_000));
    expect(f.appliedSourceMs).toBe(1_006_000);
    await f.stop();
  });

  it('an empty partition (nothing retained) has nothing to wait for', async () => {
    const { kafka, state } = fakeKafka();
    state.ends.set('t.a:0', { high: '7', low: '7' });
    state.committed.clear();
    const f = new SourceFreshness({
      kafka,
      heartbeatTopic: 'hb',
      connector: 'mis',
      groupId: 'g',
      changeTopics: ['t.a'],
      sessionTimeoutMs: 30_000,
      logger: silentLogger(),
      settleEveryMs: 60_000,
    });
    await f.start();
    await state.eachBatch?.(beat(42));
    expect(f.appliedSourceMs).toBe(42);
    await f.stop();
  });
});
