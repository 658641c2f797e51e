/**
 * Nothing lost under faults. Each scenario changes rows of users of its own (each user's
 * `user_auth` row exactly once, so each armed key depends on exactly one event), injects a fault
 * while the changes flow, and finally checks that every changed user's key is gone.
 * Figures are printed as `FAULTS …` lines.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import {
  killHard,
  ROOT,
  useServiceProcesses,
  type ServiceProcess,
} from '../support/service-process';
import { loadRules } from '../../src/rules/registry';
import { faultServiceEnv, insertGrants } from '../support/faults';
import { useStack } from '../support/harness';
import { redisDb, sql, uniq, uniqId, waitCaughtUp, waitFor } from '../support/stack';

const SETTLE_MS = 180_000;

function stack(...args: string[]): void {
  execFileSync('bash', [`${ROOT}/scripts/stack.sh`, ...args], { cwd: ROOT, stdio: 'inherit' });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('delivery under faults', () => {
  const { start } = useServiceProcesses();
  const harness = useStack();
  const { db } = harness;
  const cache = harness.redis(1);
  const topics = loadRules().tables.map((t) => `${process.env.TOPIC_PREFIX ?? 'mis'}.mis.${t}`);

  /** Users with one grant each, their keys armed once the service has seen the inserts. */
  async function prepare(n: number, group: string): Promise<number[]> {
    const base = uniqId();
    const users = Array.from({ length: n }, (_, i) => base + i);
    await insertGrants(db, users);
    await waitCaughtUp(group, topics, SETTLE_MS);
    const pipe = cache.pipeline();
    for (const u of users)
      pipe.set(`permissions:user:${u}`, '{"admin_user":{"read":true}}', 'EX', 3600);
    await pipe.exec();
    return users;
  }

  /** Revokes each user's grant once, spread over about `durationMs`. */
  async function revokeAll(users: number[], durationMs: number): Promise<void> {
    const pause = durationMs / users.length;
    for (const u of users) {
      await db.query(sql`UPDATE user_auth SET read_yn = 'N' WHERE user_id = ${u}`);
      await sleep(pause);
    }
  }

  async function stillPresent(users: number[]): Promise<number> {
    const counts = await Promise.all(users.map((u) => cache.exists(`permissions:user:${u}`)));
    return counts.reduce((a, b) => a + b, 0);
  }

  async function cleanup(users: number[]): Promise<void> {
    await db.query(
      sql`DELETE FROM user_auth WHERE user_id BETWEEN ${users[0]} AND ${users[users.length - 1]}`,
    );
    if (users.length) await cache.del(...users.map((u) => `permissions:user:${u}`));
  }

  const serviceEnv = faultServiceEnv;

  it('SIGKILL several times under a steady stream: every invalidation still lands', async () => {
    const group = `mcs-faults-kill-${uniq()}`;
    let proc: ServiceProcess = await start(serviceEnv(group));
    const users = await prepare(400, group);
    let kills = 0;
    let writing = true;
    const writer = revokeAll(users, 30_000).finally(() => (writing = false));
    while (writing) {
      await sleep(2000 + Math.random() * 1500);
      if (!writing) break;
      await killHard(proc);
      kills += 1;
      proc = await start(serviceEnv(group), 90_000);
    }
    await writer;
    await waitCaughtUp(group, topics, SETTLE_MS);
    const present = await stillPresent(users);
    console.log(
      `FAULTS sigkill: changes=${users.length}, kills=${kills}, keys expected gone=${users.length}, still present=${present}`,
    );
    expect(kills).toBeGreaterThanOrEqual(3);
    expect(present).toBe(0);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    await cleanup(users);
  });

  it('Redis down under load: the service waits, logs the outage once plus reminders, and catches up', async () => {
    const group = `mcs-faults-redis-${uniq()}`;
    const proc = await start(serviceEnv(group, { MCS_OUTAGE_REMINDER_MS: '2000' }));
    const users = await prepare(100, group);
    // The stack's Redis keeps nothing on disk by itself: save the armed keys so they come back
    // with the restart, then make every change while Redis is down. Their invalidations can
    // only land if the service kept them uncommitted through the outage.
    const redisAdmin = redisDb(0);
    await redisAdmin.save();
    const dir = ((await redisAdmin.config('GET', 'dir')) as string[])[1] ?? '';
    await redisAdmin.quit();
    stack('part', 'stop', 'redis');
    const downAt = Date.now();
    await revokeAll(users, 6000);
    await sleep(2000);
    expect(proc.child.exitCode).toBeNull(); // still running, not crash-looping
    stack('part', 'start', 'redis');
    const downMs = Date.now() - downAt;
    rmSync(path.join(dir, 'dump.rdb'), { force: true });
    await waitCaughtUp(group, topics, SETTLE_MS);
    const present = await stillPresent(users);
    const out = proc.output();
    const outages = out
      .split('\n')
      .filter((l) => l.includes('dependency unavailable: consumption paused')).length;
    const reminders = out
      .split('\n')
      .filter((l) => l.includes('dependency still unavailable')).length;
    const recovered = out.includes('dependency reachable again');
    console.log(
      `FAULTS redis-down: changes=${users.length}, down=${downMs} ms, outage lines=${outages}, reminders=${reminders}, still present=${present}`,
    );
    expect(outages).toBe(1);
    expect(reminders).toBeGreaterThanOrEqual(1);
    expect(recovered).toBe(true);
    expect(present).toBe(0);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    await cleanup(users);
  });

  it.each([['kafka'], ['connect']])(
    '%s restart under load: nothing lost, no manual action',
    async (part) => {
      const group = `mcs-faults-${part}-${uniq()}`;
      const proc = await start(serviceEnv(group));
      const users = await prepare(150, group);
      const writer = revokeAll(users, 10_000);
      await sleep(2500);
      stack('part', 'stop', part);
      await sleep(3000);
      stack('part', 'start', part);
      await writer;
      await waitCaughtUp(group, topics, SETTLE_MS);
      await waitFor(async () => (await stillPresent(users)) === 0, 60_000, 'every key gone').catch(
        () => undefined,
      );
      const present = await stillPresent(users);
      console.log(
        `FAULTS ${part}-restart: changes=${users.length}, still present=${present}, service alive=${proc.child.exitCode === null}`,
      );
      expect(proc.child.exitCode).toBeNull();
      expect(present).toBe(0);
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
      await cleanup(users);
    },
  );

  it('two instances in one group: a rebalance under load (start one, stop the other) loses nothing', async () => {
    const group = `mcs-faults-rebalance-${uniq()}`;
    const first = await start(serviceEnv(group));
    const users = await prepare(200, group);
    const writer = revokeAll(users, 10_000);
    await sleep(2000);
    const second = await start(serviceEnv(group), 90_000);
    await sleep(2500);
    const stopAt = Date.now();
    first.child.kill('SIGTERM');
    const firstExit = await first.exited;
    const stopMs = Date.now() - stopAt;
    await writer;
    await waitCaughtUp(group, topics, SETTLE_MS);
    const present = await stillPresent(users);
    console.log(
      `FAULTS rebalance: changes=${users.length}, graceful stop=${stopMs} ms (exit ${firstExit}), still present=${present}`,
    );
    expect(firstExit).toBe(0);
    expect(present).toBe(0);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    await cleanup(users);
  });
});
