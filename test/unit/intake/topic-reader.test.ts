/** readRanges and TopicFollower on a fake kafkajs consumer: the calls they make, in order. */
import type { EachBatchPayload, Kafka } from 'kafkajs';
import { TopicFollower, readRanges, type TopicRange } from '../../../src/intake/topic-reader';

type EachBatch = (payload: EachBatchPayload) => Promise<void>;

function fakeKafka() {
  const calls: string[] = [];
  const listeners = new Map<string, (e: unknown) => void>();
  let eachBatch: EachBatch | undefined;
  const consumer = {
    events: { CRASH: 'crash', GROUP_JOIN: 'join' },
    on: (event: string, fn: (e: unknown) => void) => {
      listeners.set(event, fn);
      return () => listeners.delete(event);
    },
    connect: async () => void calls.push('connect'),
    subscribe: async (o: { topics: string[]; fromBeginning: boolean }) =>
      void calls.push(`subscribe ${o.topics.join(',')} fromBeginning=${o.fromBeginning}`),
    run: async (o: {
      autoCommit?: boolean;
      eachBatchAutoResolve?: boolean;
      eachBatch: EachBatch;
    }) => {
      calls.push(`run autoCommit=${o.autoCommit} autoResolve=${o.eachBatchAutoResolve}`);
      eachBatch = o.eachBatch;
      listeners.get('join')?.({});
    },
    seek: (o: { topic: string; partition: number; offset: string }) =>
      void calls.push(`seek ${o.topic}/${o.partition}@${o.offset}`),
    disconnect: async () => void calls.push('disconnect'),
  };
  const kafka = {
    consumer: (o: unknown) => {
      calls.push(`consumer ${JSON.stringify(o)}`);
      return consumer;
    },
  } as unknown as Kafka;
  /** Hands a batch of `offsets` over as kafkajs would (after run). */
  const batch = async (topic: string, partition: number, offsets: number[]) => {
    for (let i = 0; i < 20 && !eachBatch; i++) await new Promise((r) => setImmediate(r));
    if (!eachBatch) throw new Error('run was not called');
    const payload = {
      batch: { topic, partition, messages: offsets.map((o) => ({ offset: String(o) })) },
      resolveOffset: (offset: string) => void calls.push(`resolve ${topic}/${partition}@${offset}`),
      heartbeat: async () => void calls.push('heartbeat'),
    };
    await eachBatch(payload as unknown as EachBatchPayload);
  };
  const crash = (error: Error) => listeners.get('crash')?.({ payload: { error } });
  return { kafka, calls, batch, crash };
}

const range = (topic: string, partition: number, start: number, end: number): TopicRange => ({
  topic,
  partition,
  start: BigInt(start),
  end: BigInt(end),
});

describe('readRanges', () => {
  const group = { groupId: 'g-read', sessionTimeoutMs: 30_000 };

  it('reads each non-empty range once from its start, moves past each batch, commits nothing', async () => {
    const f = fakeKafka();
    const seen: string[] = [];
    const progress: string[] = [];
    const read = readRanges({
      kafka: f.kafka,
      ...group,
      ranges: [range('t', 0, 2, 5), range('t', 1, 3, 3)],
      retryFailedBatch: false,
      onBatch: async (b) => {
        seen.push(`${b.range.partition}:${b.messages.map((m) => m.offset).join(',')}`);
      },
      onProgress: (done, total) => progress.push(`${done}/${total}`),
    });
    await f.batch('t', 1, [0, 1]); // an empty range's partition: ignored
    await f.batch('t', 0, [0, 1, 2, 3]);
    await f.batch('t', 0, [4, 5, 6]);
    await read;
    expect(seen).toEqual(['0:2,3', '0:4']);
    expect(progress).toEqual(['1/2', '2/2']);
    expect(f.calls).toEqual([
      'consumer {"groupId":"g-read","sessionTimeout":30000}',
      'connect',
      'subscribe t fromBeginning=true',
      'run autoCommit=false autoResolve=false',
      'seek t/0@2',
      'resolve t/0@3',
      'heartbeat',
      'resolve t/0@6',
      'heartbeat',
      'disconnect',
    ]);
  });

  it('without a non-empty range, no consumer at all', async () => {
    const f = fakeKafka();
    await readRanges({
      kafka: f.kafka,
      ...group,
      ranges: [range('t', 0, 4, 4)],
      retryFailedBatch: true,
      onBatch: async () => undefined,
    });
    expect(f.calls).toEqual([]);
  });

  it('retryFailedBatch false: a failing batch ends the read with its error, nothing after it', async () => {
    const f = fakeKafka();
    let handed = 0;
    const read = readRanges({
      kafka: f.kafka,
      ...group,
      ranges: [range('t', 0, 0, 10)],
      retryFailedBatch: false,
      onBatch: async () => {
        handed += 1;
        throw new Error('redis gone');
      },
    });
    const failed = expect(read).rejects.toThrow('redis gone');
    await f.batch('t', 0, [0, 1]);
    await f.batch('t', 0, [0, 1]); // fetched again before the disconnect: not handed over
    await failed;
    expect(handed).toBe(1);
    expect(f.calls.filter((c) => c.startsWith('resolve'))).toEqual([]);
    expect(f.calls[f.calls.length - 1]).toBe('disconnect');
  });

  it('retryFailedBatch true: the error goes back to kafkajs, the batch comes again', async () => {
    const f = fakeKafka();
    let attempts = 0;
    const read = readRanges({
      kafka: f.kafka,
      ...group,
      ranges: [range('t', 0, 0, 2)],
      retryFailedBatch: true,
      onBatch: async () => {
        attempts += 1;
        if (attempts === 1) throw new Error('registry down');
      },
    });
    await expect(f.batch('t', 0, [0, 1])).rejects.toThrow('registry down');
    await f.batch('t', 0, [0, 1]);
    await read;
    expect(attempts).toBe(2);
    expect(f.calls.filter((c) => c.startsWith('resolve'))).toEqual(['resolve t/0@1']);
  });

  it('a consumer crash ends the read with its error', async () => {
    const f = fakeKafka();
    const read = readRanges({
      kafka: f.kafka,
      ...group,
      ranges: [range('t', 0, 0, 2)],
      retryFailedBatch: true,
      onBatch: async () => undefined,
    });
    const failed = expect(read).rejects.toThrow('broker gone');
    for (let i = 0; i < 20 && !f.calls.includes('seek t/0@0'); i++)
      await new Promise((r) => setImmediate(r));
    f.crash(new Error('broker gone'));
    await failed;
    expect(f.calls[f.calls.length - 1]).toBe('disconnect');
  });
});

describe('TopicFollower', () => {
  it('joins with autoCommit on the topics, resolves once joined, leaves on stop', async () => {
    const f = fakeKafka();
    const follower = new TopicFollower({
      kafka: f.kafka,
      groupId: 'g-monitor',
      sessionTimeoutMs: 30_000,
      heartbeatIntervalMs: 3000,
    });
    await follower.start({
      topics: ['a', 'b'],
      fromBeginning: false,
      eachBatch: async () => undefined,
    });
    await follower.stop();
    expect(f.calls).toEqual([
      'consumer {"groupId":"g-monitor","sessionTimeout":30000,"heartbeatInterval":3000}',
      'connect',
      'subscribe a,b fromBeginning=false',
      'run autoCommit=true autoResolve=undefined',
      'disconnect',
    ]);
  });
});
