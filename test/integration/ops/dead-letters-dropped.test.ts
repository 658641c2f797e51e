/**
 * A dead letter without its value (an event too large to keep, a reference copy) cannot be
 * planned again, but its keys must not stay stale: redrive drops its table's key families as
 * patterns (the row index's fallback) and passes it. Own dead-letter topic, group and DB (6).
 */
import type Redis from 'ioredis';
import { runCli } from '../../../src/cli/program';
import { DLQ_HEADERS } from '../../../src/intake/dead-letter';
import { kafka, redisDb, uniq, uniqId } from '../../support/stack';

describe('dead-letters redrive of a reference copy', () => {
  let session: Redis;
  const tag = uniq();
  const id = uniqId();
  const topic = `mcs-test-dlq-dropped-${tag}`;
  const env = {
    ...process.env,
    MCS_DLQ_TOPIC: topic,
    MCS_GROUP_ID: `mcs-test-dlq-dropped-${tag}`,
    MCS_REDIS_DB_SESSION: '6',
    MCS_REDIS_DB_PERMISSIONS: '6',
    LOG_LEVEL: 'warn',
  };

  beforeAll(async () => {
    session = redisDb(6);
    const producer = kafka().producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        {
          key: null,
          value: null,
          headers: {
            [DLQ_HEADERS.code]: 'MESSAGE_TOO_LARGE',
            [DLQ_HEADERS.message]: 'value of 2000000 bytes exceeds 1048576',
            [DLQ_HEADERS.topic]: 'mis.mis.user_auth',
            [DLQ_HEADERS.partition]: '0',
            [DLQ_HEADERS.offset]: '123',
            [DLQ_HEADERS.table]: 'user_auth',
            [DLQ_HEADERS.dropped]: '2000000',
          },
        },
      ],
    });
    await producer.disconnect();
  });

  afterAll(async () => {
    await session.del(`session:user:${id}`, `permissions:user:${id}`);
    const admin = kafka().admin();
    await admin.connect();
    await admin.deleteGroups([`${env.MCS_GROUP_ID}-dlq-redrive`]).catch(() => undefined);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
    await session.quit();
  });

  it("drops the table's families as patterns and passes it", async () => {
    await session.set(`session:user:${id}`, 'stale', 'EX', 600);
    await session.set(`permissions:user:${id}`, 'stale', 'EX', 600);
    let out = '';
    const status = await runCli(['dead-letters', 'redrive'], {
      out: (t) => (out += t),
      err: (t) => (out += t),
      env,
    });
    expect(out).toMatch(/1 pending dead letter\(s\), 1 applied .* 0 still failing/);
    expect(status).toBe(0);
    expect(await session.exists(`session:user:${id}`, `permissions:user:${id}`)).toBe(0);
    let listed = '';
    await runCli(['dead-letters', 'list'], {
      out: (t) => (listed += t),
      err: () => undefined,
      env,
    });
    expect(listed).toMatch(/1 dead letter\(s\) .*; 0 pending redrive/);
  });
});
