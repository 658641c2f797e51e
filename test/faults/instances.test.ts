/**
 * Several instances in one consumer group: three service processes share the six partitions of
 * a `user_auth` change topic; one is SIGKILLed mid-stream, the survivors take its partitions over
 * (after the session timeout) and every change is still applied. The change events are
 * Debezium-shaped records produced straight to topics of the test's own prefix (the stack's
 * connector writes one partition per table), on the real broker and the real Redis.
 * Figures are printed as `INSTANCES …` lines.
 */
import Redis from 'ioredis';
import { loadRules } from '../../src/rules/registry';
import { killHard, useServiceProcesses, type ServiceProcess } from '../support/service-process';
import { payload } from '../support/envelopes';
import { createTopicsReady, kafka, stackEnv, uniq, uniqId, waitCaughtUp } from '../support/stack';

const PARTITIONS = 6;
const CHANGES = 3000;
const WRITE_MS = 15_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('three instances share six partitions', () => {
  const { start } = useServiceProcesses();

  it('one instance SIGKILLed mid-stream: its partitions are taken over, 0 lost', async () => {
    const prefix = `inst${uniq()}`;
    const group = `mcs-faults-instances-${uniq()}`;
    const tables = loadRules().tables;
    const topics = tables.map((t) => `${prefix}.mis.${t}`);
    const userAuthTopic = `${prefix}.mis.user_auth`;
    const admin = kafka().admin();
    await admin.connect();
    const producer = kafka().producer();
    await producer.connect();
    const cache = new Redis(stackEnv('REDIS_URL'), { db: 1 });
    const base = uniqId();
    const users = Array.from({ length: CHANGES }, (_, i) => base + i);
    try {
      await createTopicsReady(
        admin,
        topics.map((topic) => ({
          topic,
          numPartitions: topic === userAuthTopic ? PARTITIONS : 1,
        })),
      );
      const env = {
        TOPIC_PREFIX: prefix,
        MCS_GROUP_ID: group,
        MCS_SESSION_TIMEOUT_MS: '6000',
        MCS_SECOND_PASS_DELAY_MS: '0',
        MCS_DAILY_STATS_CRON: '',
      };
      const procs: ServiceProcess[] = [];
      for (let i = 0; i < 3; i++) {
        procs.push(await start(env, 90_000));
      }
      const pipe = cache.pipeline();
      for (const u of users) pipe.set(`permissions:user:${u}`, '{"admin_user":{}}', 'EX', 3600);
      await pipe.exec();

      // One revocation per user, keyed by its auth_id so they spread over the six partitions.
      const pause = WRITE_MS / (CHANGES / 50);
      let killedAt = -1;
      for (let i = 0; i < CHANGES; i += 50) {
        if (killedAt < 0 && i >= CHANGES / 3) {
          await killHard(procs[0] as ServiceProcess);
          killedAt = i;
        }
        await producer.send({
          topic: userAuthTopic,
          messages: users.slice(i, i + 50).map((u) => {
            const row = { auth_id: u, user_id: u, menu_id: 1, read_yn: 'Y', use_yn: 'Y' };
            return {
              key: JSON.stringify({ auth_id: u }),
              value: JSON.stringify(
                payload({
                  op: 'u',
                  table: 'user_auth',
                  before: row,
                  after: { ...row, read_yn: 'N' },
                }),
              ),
            };
          }),
        });
        await sleep(pause);
      }
      const t0 = Date.now();
      await waitCaughtUp(group, topics, 120_000);
      const settleMs = Date.now() - t0;
      const offsets = await admin.fetchTopicOffsets(userAuthTopic);
      const used = offsets.filter((o) => o.high !== o.low).length;
      const present = (
        await Promise.all(users.map((u) => cache.exists(`permissions:user:${u}`)))
      ).reduce((a, b) => a + b, 0);
      console.log(
        `INSTANCES 3 instances, ${PARTITIONS} partitions (${used} with records), ${CHANGES} changes, instance 1 SIGKILLed after ${killedAt}; still present ${present}; caught up ${settleMs} ms after the last write`,
      );
      expect(used).toBe(PARTITIONS); // the stream really spread over every partition
      expect(procs[1]?.child.exitCode).toBeNull();
      expect(procs[2]?.child.exitCode).toBeNull();
      expect(present).toBe(0);
    } finally {
      await cache.del(...users.map((u) => `permissions:user:${u}`)).catch(() => 0);
      cache.disconnect();
      await producer.disconnect();
      await admin.deleteTopics({ topics }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});
