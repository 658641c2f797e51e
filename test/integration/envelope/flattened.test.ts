/**
 * Flattened records (Debezium's ExtractNewRecordState) on the real stack: two more Debezium
 * connectors on the same Connect worker, each with the unwrap SMT and a topic prefix of its own,
 * and a service following each prefix. A flattened update has no before image: the row index
 * supplies the old category, so a product moved to another category dirties the old and the new
 * list; a delete arrives as a row with `__deleted` (rewrite) or as a tombstone only, and both
 * drop the row's list. A category of an untouched product stays cached (no pattern fallback).
 */
import type { RunningService } from '../../../src/app/service';
import { useStack } from '../../support/harness';
import { kafka, sql, testConfig, uniq, uniqId, waitFor } from '../../support/stack';

const BOUND_MS = 30_000;

interface Variant {
  readonly name: string;
  /** SMT settings besides the type. */
  readonly unwrap: Record<string, string>;
}

const VARIANTS: Variant[] = [
  {
    name: 'rewrite, with __op, __table, __source_ts_ms',
    unwrap: {
      'delete.tombstone.handling.mode': 'rewrite',
      'add.fields': 'op,table,source.ts_ms',
    },
  },
  {
    name: 'tombstone-only deletes, table from the topic, no __op',
    unwrap: { 'delete.tombstone.handling.mode': 'tombstone', 'add.fields': 'source.snapshot' },
  },
];

function connectUrl(): string {
  const url = process.env.CONNECT_URL;
  if (!url) throw new Error('CONNECT_URL is not set: the integration global setup did not run');
  return url;
}

async function connector(method: 'PUT' | 'DELETE', name: string, body?: unknown): Promise<void> {
  const res = await fetch(
    `${connectUrl()}/connectors/${name}${method === 'PUT' ? '/config' : ''}`,
    {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    },
  );
  if (!res.ok && !(method === 'DELETE' && res.status === 404)) {
    throw new Error(`connect ${method} ${name}: ${res.status} ${await res.text()}`);
  }
}

async function connectorRunning(name: string): Promise<boolean> {
  const res = await fetch(`${connectUrl()}/connectors/${name}/status`);
  if (!res.ok) return false;
  const s = (await res.json()) as { connector?: { state?: string }; tasks?: { state?: string }[] };
  if (s.tasks?.[0]?.state === 'FAILED') throw new Error(`connector ${name} failed`);
  return s.connector?.state === 'RUNNING' && s.tasks?.[0]?.state === 'RUNNING';
}

describe.each(VARIANTS)('flattened records ($name)', ({ unwrap }) => {
  const prefix = `flat${uniq()}`;
  const name = `${prefix}-connector`;
  const stack = useStack();
  const { db } = stack;
  const db1 = stack.redis(1);
  let service: RunningService | undefined;
  const [product, untouched, marker] = [uniqId(), uniqId(), uniqId()];
  const [c1, c2, c3, c4] = [uniqId(), uniqId(), uniqId(), uniqId()];
  const list = (c: number) => `master:products:category:${c}`;

  beforeAll(async () => {
    await db.query(sql`INSERT INTO products (product_id, category_id, brand_id, product_name) VALUES
      (${untouched}, ${c3}, 1, 'untouched'), (${marker}, ${c4}, 1, 'marker')`);
    await connector('PUT', name, {
      'connector.class': 'io.debezium.connector.mariadb.MariaDbConnector',
      'tasks.max': '1',
      'database.hostname': '127.0.0.1',
      'database.port': process.env.STACK_MYSQL_PORT ?? '13306',
      'database.user': 'cdc',
      'database.password': 'cdc',
      'database.ssl.mode': 'disable',
      'database.server.id': String(200_000 + Math.floor(Math.random() * 100_000)),
      'topic.prefix': prefix,
      'database.include.list': 'mis',
      'table.include.list': 'mis.products',
      'schema.history.internal.kafka.bootstrap.servers': process.env.KAFKA_BROKERS ?? '',
      'schema.history.internal.kafka.topic': `${prefix}.schema-history`,
      'snapshot.mode': 'initial',
      'tombstones.on.delete': 'true',
      'poll.interval.ms': '50',
      transforms: 'unwrap',
      'transforms.unwrap.type': 'io.debezium.transforms.ExtractNewRecordState',
      ...Object.fromEntries(Object.entries(unwrap).map(([k, v]) => [`transforms.unwrap.${k}`, v])),
    });
    await waitFor(() => connectorRunning(name), 60_000, `connector ${name} running`, 250);
    // The snapshot of products (with the untouched row) is in the topic once it exists.
    const admin = kafka().admin();
    await admin.connect();
    await waitFor(
      async () => {
        const [end] = await admin.fetchTopicOffsets(`${prefix}.mis.products`).catch(() => []);
        return Number(end?.high ?? 0) > 0;
      },
      60_000,
      'the snapshot of products',
      250,
    );
    await admin.disconnect();
    // No second pass: a delayed re-delete would drop the re-armed keys and hide what is tested.
    service = await stack.startService(
      testConfig({ TOPIC_PREFIX: prefix, MCS_SECOND_PASS_DELAY_MS: '0' }),
    );
  });
  stack.cleanup(async () => {
    await connector('DELETE', name);
    await db.query(
      sql`DELETE FROM products WHERE product_id IN (${product}, ${untouched}, ${marker})`,
    );
    await db1.del(list(c1), list(c2), list(c3), list(c4));
    const admin = kafka().admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`));
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  });

  const arm = async (...cs: number[]) => {
    for (const c of cs) await db1.set(list(c), 'cached', 'EX', 600);
  };
  const gone = (...cs: number[]) =>
    waitFor(
      async () => (await db1.exists(...cs.map(list))) === 0,
      BOUND_MS,
      `lists of categories ${cs.join(', ')}`,
    );

  it('create, update that moves the row, delete: old and new keys', async () => {
    // A later change of the untouched product: once its list is gone, every batch before it
    // was applied in full (one partition), so a pattern fallback would have dropped c3 too.
    const barrier = async () => {
      await db1.set(list(c4), 'cached', 'EX', 600);
      await db.query(
        sql`UPDATE products SET product_name = ${uniq()} WHERE product_id = ${marker}`,
      );
      await gone(c4);
      expect(await db1.get(list(c3))).toBe('cached');
    };
    await arm(c1, c3);
    await db.query(sql`INSERT INTO products (product_id, category_id, brand_id, product_name) VALUES
      (${product}, ${c1}, 1, 'flat')`);
    await gone(c1);

    await arm(c1, c2);
    await db.query(sql`UPDATE products SET category_id = ${c2} WHERE product_id = ${product}`);
    await gone(c1, c2); // c1 is known only from the row index
    await barrier();

    await arm(c2);
    await db.query(sql`DELETE FROM products WHERE product_id = ${product}`);
    await gone(c2); // rewrite: the last row; tombstone mode: the key and the row index
    await barrier();
    expect(service?.counters.get('rowIndexFallbacks')).toBe(0);
  });
});
