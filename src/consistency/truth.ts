/**
 * The truth of every cache family: for a key, the value the MIS application (the spec's
 * cache-aside reader, `../shared/spec/cache-strategy.md` "Values the application stores") would
 * build from MySQL now, or that it would not cache the key at all. One implementation serves
 * `verify` (a live deployment) and the randomized oracle test (test/support/application.ts fills
 * the cache with exactly these values), so both judge by the same rules.
 *
 * Shapes (the spec names the fields; where it leaves a detail open, the choice is written here):
 * - `session:user:{id}`: { user_id, username, dept_id, permissions, last_activity } of an active
 *   user (`use_yn = 'Y'`), permissions as below; `last_activity` is the reader's clock and is
 *   not compared. No session for a missing or disabled user.
 * - `permissions:user:{id}`: menu code → { create, read, update, delete } booleans from the
 *   user's active `user_auth` rows joined to `menus.code`; none for a missing or disabled user.
 * - `permissions:menu:{code}`: the menu { menu_id, code, name, sort, use_yn }; none if no menu.
 * - `master:*`: what the rule's refresh loader reads (consumers/), the same SQL the service
 *   rebuilds with.
 * - `stats:daily_sales:{yyyymmdd}`: { total_amount, order_count, brand_stats, channel_stats }
 *   over the day's orders; brand_stats by brand_id, channel_stats by channel, each
 *   { amount, count }; amounts as DECIMAL text.
 * - `stats:monthly_revenue:{yyyymm}`: { revenue } of the month's orders.
 * - `stats:serial_count:{brand_code}:{yyyymmdd}`: { count } of serials of that code and day.
 * - `stats:sales:brand:{brand_id}`: { brand_id, brand_code, brand_name, total_amount,
 *   order_count } over the brand's orders; none if the brand does not exist.
 * - `stats:daily_sales:brand:{brand_id}:{yyyymmdd}`: { total_amount, order_count } of the
 *   brand's orders that day.
 */
import type { Family } from '../core/families';
import type { RowLoader } from '../mysql/loader';
import type { KeyMatcher } from '../rules/match';

export type Truth =
  | { readonly kind: 'value'; readonly value: unknown }
  | { readonly kind: 'absent'; readonly why: string }
  | { readonly kind: 'unknown' };

type Q = RowLoader['query'];

const SUM = 'CAST(COALESCE(SUM(amount), 0) AS CHAR) AS total_amount, COUNT(*) AS order_count';

/** yyyymmdd → 'yyyy-mm-dd' (a DATE column holds the business day itself). */
function day(d: string): string {
  return `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`;
}

async function permissionMap(q: Q, userId: string): Promise<Record<string, unknown>> {
  const rows = await q(
    'SELECT m.code, a.create_yn, a.read_yn, a.update_yn, a.delete_yn FROM user_auth a ' +
      "JOIN menus m ON m.menu_id = a.menu_id WHERE a.user_id = ? AND a.use_yn = 'Y' ORDER BY m.code",
    [userId],
  );
  const map: Record<string, unknown> = {};
  for (const r of rows) {
    map[String(r.code)] = {
      create: r.create_yn === 'Y',
      read: r.read_yn === 'Y',
      update: r.update_yn === 'Y',
      delete: r.delete_yn === 'Y',
    };
  }
  return map;
}

async function activeUser(q: Q, id: string): Promise<Record<string, unknown> | undefined> {
  const [u] = await q(
    "SELECT user_id, username, dept_id FROM users WHERE user_id = ? AND use_yn = 'Y'",
    [id],
  );
  return u;
}

interface Builder {
  readonly family: Family;
  readonly re: RegExp;
  build(q: Q, m: RegExpExecArray): Promise<Truth>;
}

const value = (v: unknown): Truth => ({ kind: 'value', value: v });
const absent = (why: string): Truth => ({ kind: 'absent', why });

const BUILDERS: readonly Builder[] = [
  {
    family: 'session',
    re: /^session:user:(\d+)$/,
    async build(q, [, id = '']) {
      const u = await activeUser(q, id);
      if (!u) return absent(`no active user ${id}`);
      const permissions = await permissionMap(q, id);
      return value({ ...u, permissions, last_activity: null });
    },
  },
  {
    family: 'permissions',
    re: /^permissions:user:(\d+)$/,
    async build(q, [, id = '']) {
      if (!(await activeUser(q, id))) return absent(`no active user ${id}`);
      return value(await permissionMap(q, id));
    },
  },
  {
    family: 'permissions',
    re: /^permissions:menu:(.+)$/,
    async build(q, [, code = '']) {
      const [m] = await q('SELECT menu_id, code, name, sort, use_yn FROM menus WHERE code = ?', [
        code,
      ]);
      return m ? value(m) : absent(`no menu with code ${code}`);
    },
  },
  {
    family: 'stats',
    re: /^stats:daily_sales:brand:(\d+):(\d{8})$/,
    async build(q, [, brand = '', d = '']) {
      const [r] = await q(`SELECT ${SUM} FROM trade_orders WHERE brand_id = ? AND order_date = ?`, [
        brand,
        day(d),
      ]);
      return value(r);
    },
  },
  {
    family: 'stats',
    re: /^stats:sales:brand:(\d+)$/,
    async build(q, [, brand = '']) {
      const [b] = await q(
        'SELECT brand_id, brand_code, brand_name FROM brands WHERE brand_id = ?',
        [brand],
      );
      if (!b) return absent(`no brand ${brand}`);
      const [r] = await q(`SELECT ${SUM} FROM trade_orders WHERE brand_id = ?`, [brand]);
      return value({ ...b, ...r });
    },
  },
  {
    family: 'stats',
    re: /^stats:daily_sales:(\d{8})$/,
    async build(q, [, d = '']) {
      const [r] = await q(`SELECT ${SUM} FROM trade_orders WHERE order_date = ?`, [day(d)]);
      const group = async (column: 'brand_id' | 'channel') => {
        const rows = await q(
          `SELECT ${column} AS k, CAST(SUM(amount) AS CHAR) AS amount, COUNT(*) AS count ` +
            `FROM trade_orders WHERE order_date = ? GROUP BY ${column} ORDER BY ${column}`,
          [day(d)],
        );
        return Object.fromEntries(
          rows.map((x) => [String(x.k), { amount: x.amount, count: x.count }]),
        );
      };
      return value({
        ...r,
        brand_stats: await group('brand_id'),
        channel_stats: await group('channel'),
      });
    },
  },
  {
    family: 'stats',
    re: /^stats:monthly_revenue:(\d{4})(\d{2})$/,
    async build(q, [, y = '', m = '']) {
      const [r] = await q(
        'SELECT CAST(COALESCE(SUM(amount), 0) AS CHAR) AS revenue FROM trade_orders ' +
          'WHERE order_date >= ? AND order_date < ? + INTERVAL 1 MONTH',
        [`${y}-${m}-01`, `${y}-${m}-01`],
      );
      return value(r);
    },
  },
  {
    family: 'stats',
    re: /^stats:serial_count:(.+):(\d{8})$/,
    async build(q, [, code = '', d = '']) {
      const [r] = await q(
        'SELECT COUNT(*) AS count FROM serials WHERE brand_code = ? AND created_date = ?',
        [code, day(d)],
      );
      return value(r);
    },
  },
];

/** Fields the reader's clock fills; never part of a comparison. */
const VOLATILE: Readonly<Partial<Record<Family, readonly string[]>>> = {
  session: ['last_activity'],
};

/** A value with the volatile fields of its family taken out, ready for `canonical()`. */
export function comparable(family: Family, v: unknown): unknown {
  const drop = VOLATILE[family];
  if (!drop || !v || typeof v !== 'object' || Array.isArray(v)) return v;
  const out = { ...(v as Record<string, unknown>) };
  for (const f of drop) delete out[f];
  return out;
}

export class CacheTruth {
  constructor(
    private readonly loader: RowLoader,
    private readonly matcher: KeyMatcher,
  ) {}

  /** What the application would cache under `key` now (family = the key's family). */
  async of(family: Family, key: string): Promise<Truth> {
    const q: Q = (text, params) => this.loader.query(text, params);
    for (const b of BUILDERS) {
      if (b.family !== family) continue;
      const m = b.re.exec(key);
      if (m) return b.build(q, m);
    }
    // Master data (and any rule with a loader): the rule's refresh loader is the truth.
    const withLoader = this.matcher
      .match(key)
      .find((x) => x.target.family === family && x.target.compiledLoader);
    const loader = withLoader?.target.compiledLoader;
    if (withLoader && loader) {
      return value(
        await q(
          loader.text,
          loader.params.map((p) => withLoader.fields[p]),
        ),
      );
    }
    return { kind: 'unknown' };
  }
}
