/**
 * The delayed second invalidation against the real Redis: passes are kept in Redis, so a pass
 * scheduled by one instance (then gone) is applied by the next; a pass is applied once.
 */
import { loadConfig } from '../../../src/config/config';
import { isSyncError } from '../../../src/core/errors';
import { KeyExecutor } from '../../../src/keys/executor';
import { createRedisClients } from '../../../src/redis/clients';
import { SecondPass } from '../../../src/keys/second-pass';
import type { KeyOp } from '../../../src/rules/ops';
import { silentLogger } from '../../../src/telemetry/logger';
import { useStack } from '../../support/harness';
import { uniq } from '../../support/stack';

describe('SecondPass', () => {
  const config = loadConfig();
  const stack = useStack();
  const [db1, db2] = [stack.redis(1), stack.redis(2)];
  const clients = stack.redisClients(config.redis);
  let ns: string;
  /** The executor without loader and pattern index: every pattern is walked. */
  const plainExecutor = () =>
    new KeyExecutor({
      ports: clients.ports,
      options: config.redis,
      loader: undefined,
      logger: silentLogger(),
    });
  /** A second pass on the test's own queue and clock. */
  const passOn = (key: string, delayMs: number, now: () => number) =>
    new SecondPass({ port: clients.ports.temp, delayMs, logger: silentLogger(), key, now });

  beforeEach(() => {
    ns = `t-second-${uniq()}`;
  });

  it('survives a restart: what one instance scheduled, the next applies once the delay is over', async () => {
    const queue = `${ns}:queue`; // the pending passes of this test only
    let now = 1_000_000;
    const executor = plainExecutor();
    const ops: KeyOp[] = [
      { family: 'permissions', action: 'delete', key: `${ns}:permissions:user:1` },
      { family: 'stats', action: 'pattern-delete', key: `${ns}:stats:*:brand:1` },
    ];
    const first = passOn(queue, 1000, () => now);
    await first.schedule(ops);
    await first.schedule(ops); // the same operations again: still one pass
    expect(await db2.zcard(queue)).toBe(1); // one member holds the batch's operations
    // the first instance is gone; the stale value a slow reader wrote after the first pass:
    await db1.set(`${ns}:permissions:user:1`, 'stale', 'EX', 600);
    await db1.set(`${ns}:stats:daily:brand:1`, 'stale', 'EX', 600);
    await db1.set(`${ns}:stats:daily:brand:10`, 'other brand', 'EX', 600);

    const next = passOn(queue, 1000, () => now);
    expect(await next.drain(executor)).toBe(0); // not due yet
    now += 1000;
    expect(await next.drain(executor)).toBe(2);
    expect(await db1.exists(`${ns}:permissions:user:1`, `${ns}:stats:daily:brand:1`)).toBe(0);
    expect(await db1.get(`${ns}:stats:daily:brand:10`)).toBe('other brand');
    expect(await db2.zcard(queue)).toBe(0);
    expect(await next.drain(executor)).toBe(0);
    await db1.del(`${ns}:stats:daily:brand:10`);
  });

  it('a pass claimed by an instance that died is applied again after the claim expires', async () => {
    const queue = `${ns}:queue`;
    let now = 5_000_000;
    const op: KeyOp = { family: 'permissions', action: 'delete', key: `${ns}:permissions:user:2` };
    const pass = passOn(queue, 100, () => now);
    await pass.schedule([op]);
    now += 100;
    const dying = { apply: () => Promise.reject(new Error('instance died mid-pass')) };
    await expect(pass.drain(dying)).rejects.toThrow('instance died mid-pass');
    expect(await db2.zcard(queue)).toBe(1); // claimed, not removed
    await db1.set(`${ns}:permissions:user:2`, 'stale', 'EX', 600);
    const executor = plainExecutor();
    expect(await pass.drain(executor)).toBe(0); // still claimed
    now += 30_000;
    expect(await pass.drain(executor)).toBe(1);
    expect(await db1.exists(`${ns}:permissions:user:2`)).toBe(0);
  });

  it('applies passes written by earlier versions (one operation per member) beside new ones', async () => {
    const queue = `${ns}:queue`;
    let now = 7_000_000;
    const old: KeyOp = { family: 'permissions', action: 'delete', key: `${ns}:permissions:user:3` };
    await db2.zadd(queue, now + 100, JSON.stringify(old));
    const pass = passOn(queue, 100, () => now);
    await pass.schedule([
      old, // the same key in a new member: applied once per claim
      { family: 'permissions', action: 'delete', key: `${ns}:permissions:user:4` },
    ]);
    expect(await db2.zcard(queue)).toBe(2);
    await db1.set(`${ns}:permissions:user:3`, 'stale', 'EX', 600);
    await db1.set(`${ns}:permissions:user:4`, 'stale', 'EX', 600);
    now += 100;
    const executor = plainExecutor();
    expect(await pass.drain(executor)).toBe(2);
    expect(await db1.exists(`${ns}:permissions:user:3`, `${ns}:permissions:user:4`)).toBe(0);
    expect(await db2.zcard(queue)).toBe(0);
  });

  it('stores plain deletes as keys per family, and still applies members of the earlier array form', async () => {
    const queue = `${ns}:queue`;
    let now = 8_000_000;
    const key = (u: number) => `${ns}:permissions:user:${u}`;
    const del = (u: number): KeyOp => ({ family: 'permissions', action: 'delete', key: key(u) });
    const pattern: KeyOp = { family: 'stats', action: 'pattern-delete', key: `${ns}:stats:*` };
    // an earlier version's member: the operations whole, in an array
    await db2.zadd(queue, now + 100, JSON.stringify([del(6), del(7)]));
    const pass = passOn(queue, 100, () => now);
    await pass.schedule([del(7), del(8), pattern]);
    const members = await db2.zrange(queue, 0, -1);
    expect(members.map((m) => JSON.parse(m) as unknown)).toContainEqual({
      k: { permissions: [key(7), key(8)] },
      o: [pattern],
    });
    for (const u of [6, 7, 8]) await db1.set(key(u), 'stale', 'EX', 600);
    now += 100;
    // user 7 is in both members: applied once
    expect(await pass.drain(plainExecutor())).toBe(4);
    expect(await db1.exists(key(6), key(7), key(8))).toBe(0);
    expect(await db2.zcard(queue)).toBe(0);
  });

  it('a batch of more operations than one member holds is split, and every operation applied', async () => {
    const queue = `${ns}:queue`;
    let now = 9_000_000;
    const keys = Array.from({ length: 1201 }, (_, i) => `${ns}:permissions:user:${i}`);
    const pass = passOn(queue, 100, () => now);
    await pass.schedule(keys.map((key) => ({ family: 'permissions', action: 'delete', key })));
    expect(await db2.zcard(queue)).toBe(3); // 500 + 500 + 201
    const pipeline = db1.pipeline();
    for (const key of keys) pipeline.set(key, 'stale', 'EX', 600);
    await pipeline.exec();
    now += 100;
    const executor = plainExecutor();
    expect(await pass.drain(executor)).toBe(1201);
    expect(await db1.exists(...keys)).toBe(0);
    expect(await db2.zcard(queue)).toBe(0);
  });
  it('a Redis refusal while scheduling is a retryable REDIS_UNAVAILABLE (the outage path)', async () => {
    const closed = createRedisClients(config.redis, silentLogger());
    await closed.ready();
    await closed.close(); // every command now fails in ioredis ("Connection is closed.")
    const pass = new SecondPass({
      port: closed.ports.temp,
      delayMs: 1000,
      logger: silentLogger(),
      key: `${ns}:queue`,
    });
    const op: KeyOp = { family: 'permissions', action: 'delete', key: `${ns}:permissions:user:5` };
    const err: unknown = await pass.schedule([op]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: 'SyncError', code: 'REDIS_UNAVAILABLE', retryable: true });
    expect(isSyncError(err) && (err.details as { key?: string }).key).toBe(`${ns}:queue`);
  });

  it('a refresh whose parameters hold a BigInt is scheduled and applied with it intact', async () => {
    const queue = `${ns}:queue`;
    let now = 9_000_000;
    const big = 12345678901234567890123n; // beyond 2^53: a Number would lose it
    const op: KeyOp = {
      family: 'master',
      action: 'refresh',
      key: `${ns}:master:products:category:1`,
      sql: 'SELECT ? AS id',
      params: [big, 7, 'x'],
      version: 'b:1',
    };
    const pass = passOn(queue, 100, () => now);
    await pass.schedule([op]);
    now += 100;
    const applied: KeyOp[] = [];
    const recorder = {
      apply: async (ops: readonly KeyOp[]) => {
        applied.push(...ops);
        return { deleted: 0, scans: 0, refreshed: 0, refreshFallbacks: 0 };
      },
    };
    expect(await pass.drain(recorder)).toBe(1);
    expect(applied).toEqual([op]);
    expect(await db2.zcard(queue)).toBe(0);
  });

  it("an operation's explain reason is not stored, a parameter's own `reason` field is", async () => {
    const queue = `${ns}:queue`;
    let now = 10_000_000;
    const reason = {
      table: 'products',
      file: 'consumers/products.ts',
      target: 0,
      template: 'master:products:category:{category_id}',
      image: 'after' as const,
      fields: { category_id: 1 },
    };
    const op: KeyOp = {
      family: 'master',
      action: 'refresh',
      key: `${ns}:master:products:category:1`,
      sql: 'SELECT ? AS doc',
      params: [{ reason: 'a JSON column value', n: 1 }],
      version: 'b:1',
      reason,
    };
    const pass = passOn(queue, 100, () => now);
    await pass.schedule([op]);
    now += 100;
    const applied: KeyOp[] = [];
    await pass.drain({
      apply: async (ops: readonly KeyOp[]) => {
        applied.push(...ops);
        return { deleted: 0, scans: 0, refreshed: 0, refreshFallbacks: 0 };
      },
    });
    expect(applied).toEqual([{ ...op, reason: undefined }]);
    expect(applied[0]).not.toHaveProperty('reason');
  });
});
