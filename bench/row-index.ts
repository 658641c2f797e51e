/**
 * Row index figures on the local stack's Redis (no Kafka):
 *  1. memory and write time of the index for N rows of products (category_id, brand_id; reverse
 *     set by brand_id) and of user_auth (user_id, menu_id; reverse set by menu_id);
 *  2. a menu change: the old `permissions:user:*` pattern delete (SCAN of the whole DB + UNLINK
 *     of every permission map) against the holders from the index (one read + UNLINK of theirs).
 *
 *   npm run bench:row-index -- [--rows 100000] [--menus 50] [--other-keys 100000] [--db 9] [--no-write]
 *
 * Uses a logical DB of its own (default 9) and a namespace of its own; removes what it wrote.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Redis from 'ioredis';
import { loadConfig } from '../src/config/config';
import { createKeyspaceClient } from '../src/redis/clients';
import { deleteMatching, unlinkAll } from '../src/redis/keyspace';
import { RedisRowIndex, indexPrefix } from '../src/row-index/storage';
import type { IndexRowWrite } from '../src/row-index/ports';
import { createLogger } from '../src/telemetry/logger';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    menus: { type: 'string', default: '50' },
    'other-keys': { type: 'string', default: '100000' },
    db: { type: 'string', default: '9' },
    'no-write': { type: 'boolean', default: false },
  },
});
const ROWS = Number(args.rows);
const MENUS = Number(args.menus);
const OTHER = Number(args['other-keys']);
const DB = Number(args.db);

async function usedMemory(r: Redis): Promise<number> {
  const info = await r.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

async function removeMatching(r: Redis, match: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await r.unlink(...keys);
  } while (cursor !== '0');
}

async function main(): Promise<void> {
  const config = loadConfig({ env: process.env });
  const raw = new Redis(config.redis.url, { db: DB });
  const client = createKeyspaceClient(config.redis, DB, createLogger('silent'));
  await client.ready();
  const index = new RedisRowIndex(client.port);
  const tag = `bench${Date.now().toString(36)}`;
  const results: Record<string, unknown> = { rows: ROWS, menus: MENUS, otherKeys: OTHER };

  async function fill(table: string, row: (i: number) => IndexRowWrite): Promise<void> {
    const ns = `${tag}.${table}`;
    const before = await usedMemory(raw);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < ROWS; i += 500) {
      const rows: IndexRowWrite[] = [];
      for (let j = i; j < Math.min(ROWS, i + 500); j++) rows.push(row(j));
      await index.write([{ ns, rows }]);
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const bytes = (await usedMemory(raw)) - before;
    results[table] = {
      bytes,
      bytesPerRow: Math.round(bytes / ROWS),
      writeMs: Math.round(ms),
      rowsPerS: Math.round(ROWS / (ms / 1000)),
    };
    console.log(
      `${table}: ${ROWS} rows → ${(bytes / 1048576).toFixed(1)} MiB (${Math.round(bytes / ROWS)} B/row), written in ${Math.round(ms)} ms (500 rows per script call)`,
    );
  }

  await fill('products', (i) => ({
    pk: String(1_000_000 + i),
    v: `b:mariadb-bin.000003:${String(4_000_000 + i).padStart(16, '0')}`,
    row: { brand_id: (i % 100) + 1, category_id: (i % 1000) + 1 },
    refs: [`brand_id:${(i % 100) + 1}`],
  }));
  const authRow = (i: number, pos: number): IndexRowWrite => ({
    pk: String(1_000_000 + i),
    v: `b:mariadb-bin.000003:${String(pos + i).padStart(16, '0')}`,
    row: { menu_id: (i % MENUS) + 1, user_id: i },
    refs: [`menu_id:${(i % MENUS) + 1}`],
  });
  await fill('user_auth', (i) => authRow(i, 4_000_000));

  // 1b. Every row changed again without a change of its indexed columns (an update of
  // read_yn): rewritten as before, and with the entry kept as it is (keepSame, the row's own
  // change on a table no cascade writes to).
  for (const [name, keepSame, pos] of [
    ['rewrite', false, 5_000_000],
    ['keepSame', true, 6_000_000],
  ] as const) {
    const ns = `${tag}.user_auth`;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < ROWS; i += 500) {
      const rows: IndexRowWrite[] = [];
      for (let j = i; j < Math.min(ROWS, i + 500); j++) rows.push({ ...authRow(j, pos), keepSame });
      await index.write([{ ns, rows }]);
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    results[`user_auth_unchanged_${name}`] = {
      writeMs: Math.round(ms),
      rowsPerS: Math.round(ROWS / (ms / 1000)),
    };
    console.log(
      `user_auth, ${ROWS} unchanged rows written again (${name}): ${Math.round(ms)} ms, ${Math.round(ROWS / (ms / 1000))} rows/s`,
    );
  }

  // 2. One menu change. The permissions DB holds one map per user plus other families' keys.
  const users = ROWS;
  const p = `${tag}:`;
  for (let i = 0; i < users; i += 1000) {
    const m = raw.multi();
    for (let j = i; j < Math.min(users, i + 1000); j++)
      m.set(`${p}permissions:user:${j}`, 'x', 'EX', 3600);
    await m.exec();
  }
  for (let i = 0; i < OTHER; i += 1000) {
    const m = raw.multi();
    for (let j = i; j < Math.min(OTHER, i + 1000); j++)
      m.set(`${p}master:other:${j}`, 'x', 'EX', 3600);
    await m.exec();
  }
  const chunking = { scanCount: config.redis.scanCount, unlinkBatch: config.redis.unlinkBatch };
  const t1 = process.hrtime.bigint();
  const holders = await index.read([{ ns: `${tag}.user_auth`, pks: [], refs: [['menu_id', '1']] }]);
  const keys = (holders[0]?.refs[0] ?? []).map(
    (h) => `${p}permissions:user:${String(h.entry?.row?.user_id)}`,
  );
  const preciseDeleted = await unlinkAll(client.port, keys, chunking);
  const preciseMs = Number(process.hrtime.bigint() - t1) / 1e6;
  const t2 = process.hrtime.bigint();
  const patternDeleted = await deleteMatching(client.port, [`${p}permissions:user:*`], chunking);
  const patternMs = Number(process.hrtime.bigint() - t2) / 1e6;
  const scanCalls = Math.ceil((users + OTHER) / config.redis.scanCount);
  results.menuChange = {
    dbKeys: users + OTHER,
    precise: { holders: keys.length, deleted: preciseDeleted, ms: Math.round(preciseMs) },
    pattern: { deleted: patternDeleted, ms: Math.round(patternMs), scanCallsAtLeast: scanCalls },
  };
  console.log(
    `menu change, DB of ${users + OTHER} keys: holders from the index ${keys.length} maps deleted in ${preciseMs.toFixed(1)} ms; ` +
      `pattern permissions:user:* ${patternDeleted} maps deleted in ${patternMs.toFixed(1)} ms (≥ ${scanCalls} SCAN calls)`,
  );

  await removeMatching(raw, `${indexPrefix(`${tag}.products`).replace(/[{}]/g, '\\$&')}*`);
  await removeMatching(raw, `${indexPrefix(`${tag}.user_auth`).replace(/[{}]/g, '\\$&')}*`);
  await removeMatching(raw, `${p}*`);
  await client.close();
  await raw.quit();
  if (!args['no-write']) {
    const dir = path.resolve(__dirname, '..', '..', '..', 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${new Date().toISOString().slice(0, 10)}-row-index.json`);
    writeFileSync(
      file,
      `${JSON.stringify({ at: new Date().toISOString(), ...results }, null, 2)}\n`,
    );
    console.log(`written ${path.relative(process.cwd(), file)}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
