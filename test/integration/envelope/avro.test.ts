/**
 * The Avro stack end to end (STACK_FORMAT=avro: Debezium → Apicurio AvroConverter with
 * Confluent framing → Kafka → service → Redis). Runs only on that stack (its .stack/env
 * exports STACK_FORMAT=avro and SCHEMA_REGISTRY_URL); `.ci/run` has a step that starts it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { useStack } from '../../support/harness';
import { endOffsets, kafka, sql, testConfig, uniq, uniqId, waitFor } from '../../support/stack';

const onAvro = process.env.STACK_FORMAT === 'avro' ? describe : describe.skip;
const BOUND_MS = 20_000;

/**
 * The value bytes of the records from `from` on (one-partition topics), read by a one-off group:
 * only what Debezium wrote during this test (other tests produce hand-made records too).
 */
async function topicValues(topic: string, from: number): Promise<(Buffer | null)[]> {
  const k = kafka();
  const admin = k.admin();
  await admin.connect();
  const total = (await endOffsets(topic)) - from;
  const groupId = `mcs-test-bytes-${uniq()}`;
  const consumer = k.consumer({ groupId });
  const values: (Buffer | null)[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${values.length}/${total}`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          if (Number(message.offset) < from) return;
          values.push(message.value);
          if (values.length >= total) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  return values;
}

onAvro('Avro stack: Confluent-framed Avro through a real schema registry', () => {
  const stack = useStack();
  const { db } = stack;
  const [db0, db1] = [stack.redis(0), stack.redis(1)];
  const registryUrl = process.env.SCHEMA_REGISTRY_URL ?? '';

  describe('the service', () => {
    const own = useStack(); // stopped when this block ends, before the tests after it
    const from: Record<string, number> = {};
    beforeAll(async () => {
      for (const t of ['mis.mis.brands', 'mis.mis.user_auth']) from[t] = await endOffsets(t);
      await own.startService(testConfig());
    });

    it('an UPDATE of a brand deletes master:brands', async () => {
      await db1.set('master:brands', 'cached', 'EX', 600);
      await db.query(
        sql`UPDATE brands SET brand_name = ${`조이 ${Date.now()}`} WHERE brand_id = 2`,
      );
      await waitFor(
        async () => (await db1.exists('master:brands')) === 0,
        BOUND_MS,
        'brand keys deleted',
      );
    });

    it('an UPDATE of a user_auth row deletes that user’s permissions and session only', async () => {
      const user = uniqId();
      const other = user + 1;
      // the insert invalidates too: arm the keys once it has passed
      await db0.set(`session:user:${user}`, 'probe', 'EX', 600);
      await db.query(sql`INSERT INTO user_auth (user_id, menu_id) VALUES (${user}, 1)`);
      await waitFor(
        async () => (await db0.exists(`session:user:${user}`)) === 0,
        BOUND_MS,
        'the insert event',
      );
      await db1.set(`permissions:user:${user}`, 'cached', 'EX', 600);
      await db0.set(`session:user:${user}`, 'cached', 'EX', 600);
      await db1.set(`permissions:user:${other}`, 'cached', 'EX', 600);
      await db.query(sql`UPDATE user_auth SET read_yn = 'N' WHERE user_id = ${user}`);
      await waitFor(
        async () =>
          (await db1.exists(`permissions:user:${user}`)) === 0 &&
          (await db0.exists(`session:user:${user}`)) === 0,
        BOUND_MS,
        'user_auth keys deleted',
      );
      expect(await db1.exists(`permissions:user:${other}`)).toBe(1);
      await db1.del(`permissions:user:${other}`);
      await db.query(sql`DELETE FROM user_auth WHERE user_id = ${user}`);
    });

    it('the topics hold Confluent-framed Avro: magic byte 0, a 4-byte id the registry serves', async () => {
      for (const topic of ['mis.mis.brands', 'mis.mis.user_auth']) {
        const values = (await topicValues(topic, from[topic] ?? 0)).filter(
          (v): v is Buffer => v !== null,
        );
        expect(values.length).toBeGreaterThan(0);
        const ids = new Set<number>();
        for (const v of values) {
          expect(v[0]).toBe(0);
          expect(v[1]).not.toBe(0x7b); // not JSON after the magic byte
          ids.add(v.readUInt32BE(1));
        }
        for (const id of ids) {
          const res = await fetch(`${registryUrl}/schemas/ids/${id}`);
          expect(res.status).toBe(200);
          const schema = JSON.parse(((await res.json()) as { schema: string }).schema);
          expect(schema).toMatchObject({ type: 'record', name: 'Envelope' });
        }
      }
    });
  });

  it('registry outage: the partition stalls (nothing dead-lettered), then catches up', async () => {
    // a proxy in front of the real registry that answers 503 until told otherwise
    let up = false;
    const requests: string[] = [];
    const target = new URL(registryUrl);
    const proxy = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      if (!up) {
        res.writeHead(503).end('down for the test');
        return;
      }
      const fwd = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: req.url,
          method: req.method,
          headers: req.headers,
        },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      fwd.on('error', () => res.writeHead(502).end());
      req.pipe(fwd);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const port = (proxy.address() as AddressInfo).port;
    const dlq = `mis.mcs-test-dlq-${uniq()}`;
    const config = testConfig({
      SCHEMA_REGISTRY_URL: `http://127.0.0.1:${port}${target.pathname}`,
      MCS_DLQ_TOPIC: dlq,
      MCS_RETRY_MAX_DELAY_MS: '200',
      MCS_FROM_BEGINNING: 'false',
    });
    const { startService } = await import('../../../src/app/service');
    const { createLogger } = await import('../../../src/telemetry/logger');
    const service = await startService(config, createLogger('silent'));
    try {
      const user = uniqId();
      await db0.set(`session:user:${user}`, 'cached', 'EX', 600);
      await db.query(sql`INSERT INTO user_auth (user_id, menu_id) VALUES (${user}, 2)`);
      await waitFor(async () => requests.length >= 3, BOUND_MS, 'schema fetches retried');
      expect(await db0.exists(`session:user:${user}`)).toBe(1); // stalled, not skipped
      up = true;
      await waitFor(
        async () => (await db0.exists(`session:user:${user}`)) === 0,
        BOUND_MS,
        'the event applied once the registry answers',
      );
      const admin = kafka().admin();
      await admin.connect();
      const topics = await admin.listTopics();
      const dead = topics.includes(dlq)
        ? (await admin.fetchTopicOffsets(dlq)).reduce((n, o) => n + Number(o.high), 0)
        : 0;
      await admin.disconnect();
      expect(dead).toBe(0);
      await db.query(sql`DELETE FROM user_auth WHERE user_id = ${user}`);
    } finally {
      await service.stop();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});
