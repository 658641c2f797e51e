/**
 * No record is skipped by a rebalance, on either client, for partitions that had no committed
 * offset when it came (a fresh group, a topic just created, a rarely changed table).
 *
 * The window is forced, not hoped for: the first member holds every batch it fetched, committing
 * nothing, until a second member's join has changed its generation; those batches are then left
 * unprocessed (as the contract says). Whatever the member keeps or gives away must be fetched
 * again from where nothing was processed, by one of the two members. With `fromBeginning` false
 * the records are produced after the first member joined: they are past its start, so every one
 * of them is due.
 */
import type { Admin } from 'kafkajs';
import { createKafkaClient } from '../../../src/intake/client-factory';
import type { BatchHandler, GroupConsumer, KafkaClient } from '../../../src/intake/client';
import { createLogger } from '../../../src/telemetry/logger';
import { createTopicsReady, kafka, testConfig, uniq, waitFor } from '../../support/stack';

const PARTITIONS = 2;
const PER_PARTITION = 2000;
const VALUE = 'x'.repeat(512);

const cases = [
  ['kafkajs', true],
  ['kafkajs', false],
  ['platformatic', true],
  ['platformatic', false],
] as const;

describe.each(cases)(
  'rebalance with no committed offset: %s, fromBeginning %s',
  (client, fromBeginning) => {
    let admin: Admin;
    const topic = `mcs-rebalance-${client}-${fromBeginning ? 'b' : 'l'}-${uniq()}`;
    const groupId = `mcs-rebalance-${uniq()}`;
    const consumers: GroupConsumer[] = [];

    beforeAll(async () => {
      admin = kafka().admin();
      await admin.connect();
      await createTopicsReady(admin, [{ topic, numPartitions: PARTITIONS }]);
    });

    afterAll(async () => {
      for (const c of consumers.splice(0)) await c.stop().catch(() => undefined);
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    });

    async function produce(): Promise<void> {
      const producer = kafka().producer();
      await producer.connect();
      for (let p = 0; p < PARTITIONS; p++) {
        for (let i = 0; i < PER_PARTITION; i += 500) {
          const messages = Array.from({ length: 500 }, (_, j) => ({
            key: `${p}:${i + j}`,
            value: VALUE,
            partition: p,
          }));
          await producer.send({ topic, messages });
        }
      }
      await producer.disconnect();
    }

    function member(kc: KafkaClient): GroupConsumer {
      const c = kc.consumer({
        groupId,
        topics: [topic],
        fromBeginning,
        sessionTimeoutMs: 30_000,
        partitionsConcurrency: PARTITIONS,
        fetchBytesPerPartition: 256 * 1024,
        events: { joined: () => undefined, crashed: () => undefined, stopped: () => undefined },
      });
      consumers.push(c);
      return c;
    }

    it(`every record is handled by a member after the first one held its batches through the rejoin`, async () => {
      const config = testConfig({ MCS_KAFKA_CLIENT: client });
      const kc = await createKafkaClient(config.kafka, createLogger('silent'));
      const handled = new Set<string>();
      let secondJoined = false;
      let held = 0;
      let released = 0;
      const record: BatchHandler = async (batch, handle) => {
        if (!handle.isActive()) return;
        for (const r of batch.records) handled.add(`${batch.topic}:${batch.partition}:${r.offset}`);
        await handle.commit();
      };
      if (fromBeginning) await produce(); // rows older than the group: all due from the earliest
      const first = member(kc);
      await first.start(async (batch, handle) => {
        if (!secondJoined) {
          held += 1;
          // A batch fetched before the second member joined: held (heartbeating, as the intake's
          // retries do) until the rejoin, when it is no longer this member's to apply.
          try {
            while (handle.isActive()) {
              await new Promise((r) => setTimeout(r, 50));
              await handle.heartbeat(); // kafkajs: throws once the group rebalances
            }
          } finally {
            released += 1;
          }
          return;
        }
        await record(batch, handle);
      });
      if (!fromBeginning) await produce(); // after the first member's start resolved: all due
      await waitFor(async () => held > 0, 60_000, 'the first member to fetch a batch', 50);
      if (process.env.DEBUG_REBALANCE) console.log('held', held);
      const second = member(kc);
      secondJoined = true;
      await second.start(record);
      if (process.env.DEBUG_REBALANCE) console.log('second joined', released);
      const ends = await admin.fetchTopicOffsets(topic);
      const total = ends.reduce((n, e) => n + Number(e.high), 0);
      try {
        await waitFor(
          async () => {
            const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
            return (t?.partitions ?? []).every(
              (p) => p.offset === ends.find((e) => e.partition === p.partition)?.high,
            );
          },
          120_000,
          `the committed offsets of ${topic} to reach the ends`,
          200,
        ).catch(() => undefined); // a member that skipped records also commits past them
        await waitFor(async () => handled.size >= total, 10_000, 'every record', 100).catch(
          () => undefined,
        );
      } finally {
        for (const c of consumers.splice(0)) await c.stop();
      }
      expect(released).toBeGreaterThan(0);
      const missing: string[] = [];
      for (const e of ends) {
        let from = -1;
        for (let o = 0; o < Number(e.high); o++) {
          const have = handled.has(`${topic}:${e.partition}:${o}`);
          if (!have && from < 0) from = o;
          if (have && from >= 0) {
            missing.push(`${e.partition}:${from}..${o - 1}`);
            from = -1;
          }
        }
        if (from >= 0) missing.push(`${e.partition}:${from}..${Number(e.high) - 1}`);
      }
      expect(total).toBe(PARTITIONS * PER_PARTITION);
      expect(missing).toEqual([]);
    }, 240_000);
  },
);
