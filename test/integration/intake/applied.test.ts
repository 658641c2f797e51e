/**
 * Read-your-writes on the real stack (MariaDB → Debezium with transaction metadata → Kafka →
 * service → Redis): a transaction touching two tables (`users`, `brands`: two topics, with two instances held by different ones) is committed, its GTID read
 * with `SELECT @@last_gtid` in the writer's session, and the moment the answer says applied the
 * keys of that write are checked: gone. Many times, while a writer changes other rows
 * continuously, with one and with two service instances in the group; also through
 * `GET /applied`.
 */
import type { ConnectionPool } from '@databases/mysql';
import type Redis from 'ioredis';
import {
  ADVANCE_AND_ANSWER,
  ADVANCE_MAX,
  APPLIED_PREFIX,
  AppliedMarks,
} from '../../../src/intake/applied/marks';
import { parseGtid } from '../../../src/intake/applied/positions';
import { useStack } from '../../support/harness';
import { AssignerProtocol } from 'kafkajs';
import { kafka, sql, testConfig, uniq, uniqId, waitFor } from '../../support/stack';

const ROUNDS = 25;

describe('read-your-writes: applied marks on the real stack', () => {
  const stack = useStack();
  const [db0, db1] = [stack.redis(0), stack.redis(1)];
  const temp = stack.redis(testConfig().redis.db.temp); // where the service keeps the marks

  /** Runs a writer changing other rows until stopped; resolves to the count of changes. */
  function background(db: ConnectionPool) {
    let running = true;
    let n = 0;
    const base = uniqId();
    const done = (async () => {
      await db.query(sql`INSERT INTO users (user_id, username) VALUES (${base}, ${`bg${base}`})`);
      while (running) {
        await db.query(sql`UPDATE users SET dept_id = ${n % 7} WHERE user_id = ${base}`);
        n += 1;
      }
      await db.query(sql`DELETE FROM users WHERE user_id = ${base}`);
      return n;
    })();
    return { stop: async () => ((running = false), done) };
  }

  /** Topic → the member holding it in the group. */
  async function topicOwners(group: string): Promise<Map<string, string>> {
    const admin = kafka().admin();
    await admin.connect();
    try {
      const { groups } = await admin.describeGroups([group]);
      const owners = new Map<string, string>();
      for (const m of groups[0]?.members ?? []) {
        const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
        for (const topic of Object.keys(a?.assignment ?? {})) owners.set(topic, m.memberId);
      }
      return owners;
    } finally {
      await admin.disconnect();
    }
  }

  /** One write of two tables in one transaction; its GTID. */
  async function write(db: ConnectionPool, userId: number, brandId: number): Promise<string> {
    return db.task(async (c) => {
      await c.tx(async (t) => {
        await t.query(sql`UPDATE users SET use_yn = 'N' WHERE user_id = ${userId}`);
        await t.query(sql`UPDATE brands SET sort = sort + 1 WHERE brand_id = ${brandId}`);
      });
      const [row] = await c.query(sql`SELECT @@last_gtid AS gtid`);
      return String((row as { gtid: string }).gtid);
    });
  }

  async function rounds(answer: (gtid: string, user: number) => Promise<boolean>, label: string) {
    const { db } = stack;
    const brand = uniqId() % 1_000_000_000;
    await db.query(
      sql`INSERT INTO brands (brand_id, brand_name, brand_code) VALUES (${brand}, ${label}, ${`r${brand}`})`,
    );
    const load = background(db);
    let early = 0;
    try {
      for (let i = 0; i < ROUNDS; i++) {
        const user = uniqId();
        await db.query(
          sql`INSERT INTO users (user_id, username) VALUES (${user}, ${`ryw${user}`})`,
        );
        await db0.set(`session:user:${user}`, 'cached', 'EX', 600);
        await db1.set(`permissions:user:${user}`, 'cached', 'EX', 600);
        await db1.set('master:brands', 'cached', 'EX', 600);
        const gtid = await write(db, user, brand);
        const ok = await answer(gtid, user);
        if (!ok) throw new Error(`round ${i}: ${gtid} not applied in time`);
        // right now, before anything else: the keys of that write must be gone
        const left =
          (await db0.exists(`session:user:${user}`)) +
          (await db1.exists(`permissions:user:${user}`, 'master:brands'));
        if (left > 0) early += 1;
        await db.query(sql`DELETE FROM users WHERE user_id = ${user}`);
      }
    } finally {
      const changes = await load.stop();
      await db.query(sql`DELETE FROM brands WHERE brand_id = ${brand}`);
      process.stdout.write(
        `APPLIED ${label}: ${ROUNDS} rounds, ${changes} background changes, early ${early}\n`,
      );
    }
    expect(early).toBe(0);
  }

  const marksOf = (r: Redis) =>
    new AppliedMarks({
      eval: (script, keys, args) => r.eval(script, keys.length, ...keys, ...args),
    } as ConstructorParameters<typeof AppliedMarks>[0]);

  /**
   * The service's own answer script and the keys of the write read in one Lua call: at the very
   * instant the marks say applied, how many of the keys are still there (must be 0).
   */
  const ORACLE = `local function answer()\n${ADVANCE_AND_ANSWER}\nend
local a = answer()
if a ~= 'applied' then return {a, 0} end
redis.call('SELECT', 0)
local left = redis.call('EXISTS', KEYS[1])
redis.call('SELECT', 1)
left = left + redis.call('EXISTS', KEYS[2], KEYS[3])
return {a, left}`;

  /** Polls the oracle until applied (counting any instant a key was still there) or 20 s. */
  let early = 0;
  async function atomically(gtid: string, user: number): Promise<boolean> {
    const position = parseGtid(gtid);
    if (!position) throw new Error(`not a GTID: ${gtid}`);
    const keys = [`session:user:${user}`, `permissions:user:${user}`, 'master:brands'];
    const args = [APPLIED_PREFIX, ADVANCE_MAX, gtid, position.stream, position.rank];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const [a, left] = (await temp.eval(ORACLE, 3, ...keys, ...args)) as [string, number];
      if (a === 'applied') {
        if (left > 0) early += 1;
        return true;
      }
    }
    return false;
  }

  it('the answer and the keys read atomically: never applied while a key of the write is left', async () => {
    await stack.startService(testConfig({ MCS_APPLIED_TRACKING: 'true' }));
    early = 0;
    await rounds(atomically, 'atomic oracle, one instance');
    expect(early).toBe(0);
  });

  it('one instance: applied only once the keys of the write are gone, under load', async () => {
    await stack.startService(testConfig({ MCS_APPLIED_TRACKING: 'true' }));
    const marks = marksOf(temp);
    await rounds(async (gtid) => {
      const position = parseGtid(gtid);
      if (!position) throw new Error(`not a GTID: ${gtid}`);
      return (await marks.wait(position, 20_000, 2)) === 'applied';
    }, 'one instance');
  });

  it('two instances in one group: GET /applied and the atomic oracle', async () => {
    const group = `mis-cache-sync-test-ryw-${uniq()}`;
    const env = { MCS_APPLIED_TRACKING: 'true', MCS_GROUP_ID: group };
    const a = await stack.startService(testConfig(env));
    await stack.startService(testConfig(env));
    // the write's two tables are really served by two instances
    let owners = new Map<string, string>();
    await waitFor(
      async () => new Set((owners = await topicOwners(group)).values()).size === 2,
      60_000,
      'both instances to hold partitions',
    );
    process.stdout.write(`APPLIED owners: ${JSON.stringify([...owners])}\n`);
    expect(owners.get('mis.mis.users')).toBeDefined();
    expect(owners.get('mis.mis.users')).not.toBe(owners.get('mis.mis.brands'));
    await rounds(async (gtid) => {
      const res = await fetch(`http://127.0.0.1:${a.httpPort}/applied?gtid=${gtid}&wait=20s`);
      const body = (await res.json()) as { applied: boolean };
      return res.status === 200 && body.applied;
    }, 'two instances, GET /applied');
    early = 0;
    await rounds(atomically, 'atomic oracle, two instances');
    expect(early).toBe(0);
    const bad = await fetch(`http://127.0.0.1:${a.httpPort}/applied?gtid=nope`);
    expect(bad.status).toBe(400);
    const future = await fetch(
      `http://127.0.0.1:${a.httpPort}/applied?gtid=0-1-999999999&wait=300ms`,
    );
    expect(await future.json()).toMatchObject({ applied: false, status: 'pending' });
  });
});
