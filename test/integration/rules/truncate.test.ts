/**
 * TRUNCATE of every ruled table on the real stack (MariaDB → Debezium `op: t` → service →
 * Redis): every key of the table's families goes — a target declared as a pattern stays a
 * pattern (menus' `permissions:user:*`) — while keys of other families, and the same key names
 * in a logical DB no family uses, stay. Each table's rows are saved in a scratch database first
 * and put back afterwards.
 */
import type { Family } from '../../../src/core/families';
import type { CompiledTarget } from '../../../src/rules/compile';
import { truncateOp } from '../../../src/rules/plan';
import { useStack } from '../../support/harness';
import { shippedRules } from '../../support/rules';
import { endOffsets, sql, testConfig, uniqId, waitCaughtUp, waitFor } from '../../support/stack';

const SCRATCH = 'mis_blind_truncate';
const UNUSED_DB = 7;
const BOUND_MS = 20_000;

/** A concrete key the target produces: placeholders filled with sample values, `*` with text. */
function sampleKey(target: CompiledTarget, id: number): string {
  let key = '';
  for (const seg of target.template.segments) {
    if ('text' in seg) key += seg.text.replace(/\*/g, `s${id}`);
    else if (seg.format === 'yyyymmdd') key += '20240101';
    else if (seg.format === 'yyyymm') key += '202401';
    else key += String(id);
  }
  return key;
}

/** Redis glob (only `*` and `\` escapes occur here) → RegExp. */
function globRe(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '\\') re += (glob[++i] ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '*') re += '.*';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

describe('TRUNCATE of every ruled table', () => {
  const stack = useStack();
  const { db } = stack;
  const config = testConfig({ MCS_SECOND_PASS_DELAY_MS: '0' }); // no delayed re-deletes between tables
  const client = (n: number) => stack.redis(n);

  beforeAll(async () => {
    await db.query(sql`CREATE DATABASE IF NOT EXISTS ${sql.ident(SCRATCH)}`);
    await stack.startService(config);
  });
  stack.cleanup(() => db.query(sql`DROP DATABASE IF EXISTS ${sql.ident(SCRATCH)}`));

  for (const table of shippedRules.tables) {
    it(`${table}: every key of its families goes, patterns as patterns; other keys stay`, async () => {
      const rule = shippedRules.get(table);
      if (!rule) throw new Error(`no rule for ${table}`);
      const dbOf = (f: Family) => config.redis.db[f];
      const patterns = rule.targets.map((t) => truncateOp(t));
      const matched = (family: Family, key: string) =>
        patterns.some((p) => dbOf(p.family) === dbOf(family) && globRe(p.key).test(key));
      const id = uniqId();
      // Keys the table's truncate must remove: two per target, in the family's DB.
      const doomed: { db: number; key: string }[] = [];
      for (const t of rule.targets) {
        for (const n of [id, id + 1]) doomed.push({ db: dbOf(t.family), key: sampleKey(t, n) });
      }
      // Keys it must keep: every other table's sample keys it does not cover, and every key
      // (doomed ones included) in a logical DB no family uses.
      const kept: { db: number; key: string }[] = doomed.map((d) => ({
        db: UNUSED_DB,
        key: d.key,
      }));
      for (const other of shippedRules.tables) {
        for (const t of shippedRules.get(other)?.targets ?? []) {
          const key = sampleKey(t, id + 2);
          if (!matched(t.family, key)) kept.push({ db: dbOf(t.family), key });
        }
      }
      expect(kept.length).toBeGreaterThan(doomed.length); // the control set is not empty

      const src = sql.ident('mis', table);
      const copy = sql.ident(SCRATCH, table);
      await db.query(sql`DROP TABLE IF EXISTS ${copy}`);
      await db.query(sql`CREATE TABLE ${copy} AS SELECT * FROM ${src}`);
      try {
        for (const k of [...doomed, ...kept]) await client(k.db).set(k.key, 'cached', 'EX', 600);
        await db.query(sql`TRUNCATE TABLE ${src}`);
        await waitFor(
          async () => {
            for (const k of doomed) if ((await client(k.db).exists(k.key)) === 1) return false;
            return true;
          },
          BOUND_MS,
          `the truncate of ${table} to remove ${doomed.map((d) => `${d.db}/${d.key}`).join(', ')}`,
          50,
        );
        const survivors: string[] = [];
        for (const k of kept)
          if ((await client(k.db).exists(k.key)) === 1) survivors.push(`${k.db}/${k.key}`);
        expect(survivors).toEqual(kept.map((k) => `${k.db}/${k.key}`));
      } finally {
        const topic = `${config.kafka.topicPrefix}.mis.${table}`;
        const end = () => endOffsets(topic);
        const before = await end();
        const [{ n }] = (await db.query(sql`SELECT COUNT(*) AS n FROM ${copy}`)) as [{ n: number }];
        await db.query(sql`INSERT INTO ${src} SELECT * FROM ${copy}`);
        // Debezium has published the restored rows (one event each) before we wait for the group
        await waitFor(
          async () => (await end()) >= before + Number(n),
          BOUND_MS,
          `${n} restore events of ${table}`,
          100,
        );
        await db.query(sql`DROP TABLE IF EXISTS ${copy}`);
        // The restored rows' own invalidations must pass before the next table arms its keys.
        await waitCaughtUp(config.kafka.groupId, [topic]);
        for (const k of [...doomed, ...kept]) await client(k.db).del(k.key);
      }
    });
  }
});
