/**
 * What a full re-snapshot of the users table costs in Redis: 100,000 `op: r` events (a share of
 * them disabled users) planned in Kafka-sized batches and applied to a real Redis warmed with
 * every user's session and permission map, in two modes:
 *
 *   - default (MCS_SNAPSHOT_INVALIDATES=false): only rows in a denying state (consumers/users.ts
 *     `denyingStates`: use_yn 'N') invalidate;
 *   - MCS_SNAPSHOT_INVALIDATES=true: every snapshot read invalidates.
 *
 *   npm run bench:resnapshot -- [--users 100000] [--disabled-share 0.02] [--batch 500]
 *                               [--redis-db-base 13]
 *
 * Redis commands are counted from `INFO commandstats` (calls, all commands, the bench's own INFO
 * calls subtracted); times are the plan + apply wall time (Kafka reading is the same in both
 * modes and left out). Uses logical DBs of its own (session → base, permissions → base + 1) of
 * the stack's Redis (`.stack/env`) and empties them at the end.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Redis from 'ioredis';
import { loadConfig } from '../src/config/config';
import type { RawRecord } from '../src/envelope/types';
import { batchContext, planBatch } from '../src/intake/batch-plan';
import { createRedisClients } from '../src/redis/clients';
import { KeyExecutor } from '../src/keys/executor';
import { loadRules } from '../src/rules/registry';
import { createLogger } from '../src/telemetry/logger';

const REPO = path.resolve(__dirname, '..', '..', '..'); // .stack/bench-build/bench → repo

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '100000' },
    'disabled-share': { type: 'string', default: '0.02' },
    batch: { type: 'string', default: '500' },
    'redis-db-base': { type: 'string', default: '13' },
  },
});
const USERS = Number(args.users);
const DISABLED = Number(args['disabled-share']);
const BATCH = Number(args.batch);
const BASE = Number(args['redis-db-base']);

function records(): RawRecord[] {
  const out: RawRecord[] = [];
  const every = DISABLED > 0 ? Math.round(1 / DISABLED) : 0;
  for (let i = 0; i < USERS; i++) {
    const id = i + 1;
    const after = {
      user_id: id,
      username: `u${id}`,
      dept_id: 1 + (id % 3),
      use_yn: every && id % every === 0 ? 'N' : 'Y',
      updated_at: 1_700_000_000_000,
    };
    const value = {
      before: null,
      after,
      source: {
        connector: 'mariadb',
        name: 'mis',
        ts_ms: 1_700_000_000_000,
        snapshot: i === USERS - 1 ? 'last' : 'true',
        db: 'mis',
        table: 'users',
        file: 'mariadb-bin.000001',
        pos: 4,
      },
      op: 'r',
      ts_ms: 1_700_000_000_000,
    };
    out.push({
      topic: 'mis.mis.users',
      partition: 0,
      offset: String(i),
      key: null,
      value: Buffer.from(JSON.stringify(value)),
    });
  }
  return out;
}

async function commandCalls(redis: Redis): Promise<number> {
  const text = await redis.info('commandstats');
  let calls = 0;
  for (const m of text.matchAll(/calls=(\d+)/g)) calls += Number(m[1]);
  return calls;
}

async function warm(redis: Redis): Promise<void> {
  for (let i = 0; i < USERS; i += 1000) {
    const p = redis.pipeline();
    for (let id = i + 1; id <= Math.min(USERS, i + 1000); id++) {
      p.select(BASE).set(`session:user:${id}`, 's', 'EX', 3600);
      p.select(BASE + 1).set(`permissions:user:${id}`, 'p', 'EX', 3600);
    }
    await p.exec();
  }
}

async function main(): Promise<void> {
  const env = {
    ...process.env,
    MCS_REDIS_DB_SESSION: String(BASE),
    MCS_REDIS_DB_PERMISSIONS: String(BASE + 1),
    MCS_REDIS_DB_MASTER: String(BASE + 1),
    MCS_REDIS_DB_STATS: String(BASE + 1),
    MCS_REDIS_DB_TEMP: String(BASE + 2),
    LOG_LEVEL: 'warn',
  };
  const results = [];
  const recs = records();
  const admin = new Redis(loadConfig({ env, cwd: REPO }).redis.url);
  for (const snapshotInvalidates of [false, true]) {
    const config = loadConfig({
      env: { ...env, MCS_SNAPSHOT_INVALIDATES: String(snapshotInvalidates) },
      cwd: REPO,
    });
    const logger = createLogger('warn');
    const clients = createRedisClients(config.redis, logger);
    await clients.ready();
    const exec = new KeyExecutor({
      ports: clients.ports,
      options: {
        scanCount: config.redis.scanCount,
        unlinkBatch: config.redis.unlinkBatch,
        ttl: config.redis.ttl,
      },
      loader: undefined,
      logger,
    });
    const ctx = batchContext(config, loadRules());
    await warm(admin);
    const before = await commandCalls(admin);
    const started = process.hrtime.bigint();
    let deleted = 0;
    let ops = 0;
    let applyNs = 0n;
    for (let i = 0; i < recs.length; i += BATCH) {
      const plan = planBatch(recs.slice(i, i + BATCH), ctx);
      ops += plan.ops.length;
      const t = process.hrtime.bigint();
      deleted += (await exec.apply(plan.ops)).deleted;
      applyNs += process.hrtime.bigint() - t;
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const commands = (await commandCalls(admin)) - before - 1; // the second INFO call itself
    const row = {
      mode: snapshotInvalidates ? 'MCS_SNAPSHOT_INVALIDATES=true' : 'default (denying states only)',
      users: USERS,
      disabledShare: DISABLED,
      batch: BATCH,
      plannedOps: ops,
      keysDeleted: deleted,
      redisCommands: commands,
      ms: Math.round(ms),
      redisApplyMs: Math.round(Number(applyNs) / 1e6),
    };
    console.log(JSON.stringify(row));
    results.push(row);
    await clients.close();
    for (const db of [BASE, BASE + 1, BASE + 2]) await admin.select(db).then(() => admin.flushdb());
  }
  await admin.quit();
  const dir = path.join(REPO, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${new Date().toISOString().slice(0, 10)}-resnapshot.json`);
  writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), results }, null, 2)}\n`);
  console.log(`written ${path.relative(REPO, file)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
