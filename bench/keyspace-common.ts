/** Helpers of the keyspace benches (standalone and `--cluster`). */
import { performance } from 'node:perf_hooks';
import { sql, type ConnectionPool } from '@databases/mysql';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const pct = (sorted: number[], p: number) =>
  sorted.length === 0
    ? NaN
    : (sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ??
      NaN);

export const summary = (values: number[]) => {
  const s = [...values].sort((x, y) => x - y);
  return {
    n: s.length,
    p50: Math.round(pct(s, 50)),
    p90: Math.round(pct(s, 90)),
    max: Math.round(s[s.length - 1] ?? NaN),
  };
};

/** Milliseconds until the key no longer EXISTS (polled every 5 ms); Infinity after the timeout. */
export async function goneAfter(
  r: { exists(key: string): Promise<number> },
  key: string,
  timeoutMs = 30_000,
): Promise<number> {
  const t0 = performance.now();
  while ((await r.exists(key)) === 1) {
    if (performance.now() - t0 > timeoutMs) return Infinity;
    await sleep(5);
  }
  return performance.now() - t0;
}

/**
 * A user of the bench's own with one grant; each call of the returned function sets its
 * permission map, flips the grant's read right in MariaDB and resolves to the ms until the map
 * is gone (the revocation's latency through Debezium, Kafka and the service); `remove` deletes
 * the user's rows.
 */
export async function revocationProbe(
  db: ConnectionPool,
  redis: {
    set(key: string, value: string, ex: 'EX', seconds: number): Promise<unknown>;
    exists(key: string): Promise<number>;
  },
): Promise<{ revoke: () => Promise<number>; remove: () => Promise<void> }> {
  const user = 900_000_000 + Math.floor(Math.random() * 90_000_000);
  await db.query(
    sql`INSERT INTO users (user_id, username, dept_id, use_yn) VALUES (${user}, ${`bk${user}`}, 2, 'Y')`,
  );
  await db.query(sql`INSERT INTO user_auth (user_id, menu_id, read_yn) VALUES (${user}, 1, 'Y')`);
  await sleep(2000);
  let flip = 0;
  const revoke = async () => {
    const key = `permissions:user:${user}`;
    await redis.set(key, 'probe', 'EX', 600);
    flip++;
    await db.query(
      sql`UPDATE user_auth SET read_yn = ${flip % 2 ? 'N' : 'Y'} WHERE user_id = ${user}`,
    );
    return goneAfter(redis, key);
  };
  const remove = async () => {
    await db.query(sql`DELETE FROM user_auth WHERE user_id = ${user}`);
    await db.query(sql`DELETE FROM users WHERE user_id = ${user}`);
  };
  return { revoke, remove };
}

/** `order(brand)` at `rate` per second (brands 1–3 in turn) until `endAt` (performance.now()). */
export function orderLoad(
  order: (brand: number) => Promise<unknown>,
  rate: number,
  endAt: number,
): { readonly done: Promise<void>; readonly pending: Promise<unknown>[]; count(): number } {
  const pending: Promise<unknown>[] = [];
  let orders = 0;
  const done = (async () => {
    const interval = 1000 / rate;
    let next = performance.now();
    while (performance.now() < endAt) {
      pending.push(order((orders % 3) + 1).catch(() => undefined));
      orders++;
      next += interval;
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
    }
  })();
  return { done, pending, count: () => orders };
}
