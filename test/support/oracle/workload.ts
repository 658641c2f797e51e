/**
 * The oracle's workload: a seeded writer of random changes over all eight tables (creates,
 * updates that move rows to another user, category, brand or day, deletes, one TRUNCATE), the
 * key universe the cache-aside readers fill, and the targeted writes aimed at known blind spots.
 * The writer knows nothing of faults or of the checker: it only records what it did (history.ts).
 */
import type { ConnectionPool } from '@databases/mysql';
import type Redis from 'ioredis';
import type { Family } from '../../../src/core/families';
import { planEvent, type PlanOptions } from '../../../src/rules/plan';
import type { RuleSet } from '../../../src/rules/registry';
import type { Application } from '../application';
import { sql, waitFor } from '../stack';
import type { OracleOptions } from './options';

export type Row = Record<string, unknown>;
export type Table =
  | 'departments'
  | 'brands'
  | 'users'
  | 'menus'
  | 'user_auth'
  | 'products'
  | 'trade_orders'
  | 'serials';

export const PK: Record<Table, string> = {
  departments: 'dept_id',
  brands: 'brand_id',
  users: 'user_id',
  menus: 'menu_id',
  user_auth: 'auth_id',
  products: 'product_id',
  trade_orders: 'order_id',
  serials: 'serial_id',
};
export const TABLES = Object.keys(PK) as Table[];
export const DAYS = ['2031-01-29', '2031-01-30', '2031-01-31', '2031-02-01', '2031-02-02'];
const CHANNELS = ['online', 'store', 'export'];
const SEED_BRANDS = [
  { brand_id: 1, brand_code: 'REAN' },
  { brand_id: 2, brand_code: 'JOY' },
  { brand_id: 3, brand_code: 'NUNA' },
];

/** One planned change, not yet made. */
export interface Change {
  readonly table: Table;
  readonly op: 'c' | 'u' | 'd';
  readonly before: Row | null;
  readonly after: Row | null;
}

export interface WriteLog {
  readonly seq: number;
  readonly at: number;
  readonly table: Table;
  readonly op: 'c' | 'u' | 'd' | 't';
  readonly before: Row | null;
  readonly after: Row | null;
}

/** The generator: the rows it created, by table, and the SQL of each random change. */
export class Writer {
  readonly rows = new Map<Table, Map<number, Row>>(TABLES.map((t) => [t, new Map()]));
  readonly log: WriteLog[] = [];
  failed = 0;
  private next: number;
  /** Every id / code the run ever used: the readers' key universe. */
  readonly users = new Set<number>();
  readonly codes = new Set<string>();
  readonly brandIds = new Set<number>(SEED_BRANDS.map((b) => b.brand_id));
  readonly brandCodes = new Set<string>(SEED_BRANDS.map((b) => b.brand_code));

  constructor(
    private readonly db: ConnectionPool,
    private readonly rnd: () => number,
    readonly base: number,
    private readonly opts: OracleOptions,
  ) {
    this.next = base;
  }

  readonly categories = (): number[] => [1, 2, 3, 4].map((i) => this.base + i);
  private pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[Math.floor(this.rnd() * items.length)];
  }
  private some(table: Table): Row | undefined {
    return this.pick([...(this.rows.get(table) as Map<number, Row>).values()]);
  }
  private yn(pY = 0.7): string {
    return this.rnd() < pY ? 'Y' : 'N';
  }
  private brand(): { brand_id: number; brand_code: string } {
    const own = [...(this.rows.get('brands') as Map<number, Row>).values()].map((b) => ({
      brand_id: b.brand_id as number,
      brand_code: b.brand_code as string,
    }));
    return this.pick([...own, ...SEED_BRANDS]) as { brand_id: number; brand_code: string };
  }

  /** A fresh row of the table (its id from the run's own range). */
  private fresh(table: Table): Row | undefined {
    const id = ++this.next;
    switch (table) {
      case 'departments':
        return { dept_id: id, dept_name: `부서${id}`, sort: id % 7, use_yn: this.yn() };
      case 'brands':
        return {
          brand_id: id,
          brand_name: `브랜드${id}`,
          brand_code: `OB${id}`,
          sort: id % 5,
          use_yn: this.yn(),
        };
      case 'users':
        return { user_id: id, username: `ou${id}`, dept_id: 1 + (id % 3), use_yn: this.yn(0.8) };
      case 'menus':
        return { menu_id: id, code: `om${id}`, name: `메뉴${id}`, sort: id % 9, use_yn: 'Y' };
      case 'user_auth': {
        const user = this.some('users');
        const menu = this.some('menus');
        if (!user || !menu) return undefined;
        const taken = [...(this.rows.get('user_auth') as Map<number, Row>).values()].some(
          (a) => a.user_id === user.user_id && a.menu_id === menu.menu_id,
        );
        if (taken) return undefined;
        return {
          auth_id: id,
          user_id: user.user_id,
          menu_id: menu.menu_id,
          create_yn: this.yn(0.5),
          read_yn: this.yn(0.9),
          update_yn: this.yn(0.5),
          delete_yn: this.yn(0.3),
          use_yn: this.yn(0.85),
        };
      }
      case 'products':
        return {
          product_id: id,
          category_id: this.pick(this.categories()),
          brand_id: this.brand().brand_id,
          product_name: `상품${id}`,
          use_yn: this.yn(0.8),
        };
      case 'trade_orders':
        return {
          order_id: id,
          order_no: `OO${id}`,
          order_date: this.pick(DAYS),
          brand_id: this.brand().brand_id,
          channel: this.pick(CHANNELS),
          amount: (Math.floor(this.rnd() * 1_000_000) / 100).toFixed(2),
          status: 'ORDERED',
        };
      case 'serials':
        return {
          serial_id: id,
          serial_no: `OS${id}`,
          brand_code: this.brand().brand_code,
          product_id: 1,
          created_date: this.pick(DAYS),
        };
    }
  }

  /** A change of some columns (moves included: another user, category, brand, day). */
  private changed(table: Table, row: Row): Row | undefined {
    const r = { ...row };
    const n = this.rnd();
    switch (table) {
      case 'departments':
        if (n < 0.4) r.dept_name = `부서${row.dept_id}-${this.next++}`;
        else if (n < 0.7) r.sort = Math.floor(this.rnd() * 9);
        else r.use_yn = row.use_yn === 'Y' ? 'N' : 'Y';
        return r;
      case 'brands':
        if (n < 0.4) r.brand_name = `브랜드${row.brand_id}-${this.next++}`;
        else if (n < 0.6) r.sort = Math.floor(this.rnd() * 9);
        else r.use_yn = row.use_yn === 'Y' ? 'N' : 'Y';
        return r;
      case 'users':
        if (n < 0.4) r.use_yn = row.use_yn === 'Y' ? 'N' : 'Y';
        else if (n < 0.7) r.dept_id = 1 + Math.floor(this.rnd() * 3);
        else r.username = `ou${row.user_id}-${this.next++}`;
        return r;
      case 'menus':
        if (this.opts.menuRenames && n < 0.4) r.code = `om${row.menu_id}-${this.next++}`;
        else if (n < 0.7) r.name = `메뉴${this.next++}`;
        else r.sort = Math.floor(this.rnd() * 9);
        return r;
      case 'user_auth': {
        if (n < 0.25) {
          const user = this.some('users'); // move to another user
          if (!user) return undefined;
          const taken = [...(this.rows.get('user_auth') as Map<number, Row>).values()].some(
            (a) => a.user_id === user.user_id && a.menu_id === row.menu_id,
          );
          if (taken) return undefined;
          r.user_id = user.user_id;
        } else {
          const col = this.pick([
            'create_yn',
            'read_yn',
            'update_yn',
            'delete_yn',
            'use_yn',
          ]) as string;
          r[col] = row[col] === 'Y' ? 'N' : 'Y';
        }
        return r;
      }
      case 'products':
        if (n < 0.4) r.category_id = this.pick(this.categories());
        else if (n < 0.55) r.brand_id = this.brand().brand_id;
        else if (n < 0.75) r.product_name = `상품${this.next++}`;
        else r.use_yn = row.use_yn === 'Y' ? 'N' : 'Y';
        return r;
      case 'trade_orders':
        if (n < 0.3) r.order_date = this.pick(DAYS);
        else if (n < 0.5) r.brand_id = this.brand().brand_id;
        else if (n < 0.8) r.amount = (Math.floor(this.rnd() * 1_000_000) / 100).toFixed(2);
        else r.channel = this.pick(CHANNELS);
        return r;
      case 'serials':
        if (n < 0.5) r.created_date = this.pick(DAYS);
        else r.brand_code = this.brand().brand_code;
        return r;
    }
  }

  private track(table: Table, row: Row): void {
    if (table === 'users') this.users.add(row.user_id as number);
    if (table === 'menus') this.codes.add(row.code as string);
    if (table === 'brands') {
      this.brandIds.add(row.brand_id as number);
      this.brandCodes.add(row.brand_code as string);
    }
  }

  /** One random write (none when it could not be made, e.g. nothing to update). */
  async step(seq: number): Promise<void> {
    const change = this.random();
    if (change) await this.apply(seq, change);
  }

  /** A random change of a random table. */
  random(): Change | undefined {
    const table = this.pick(TABLES) as Table;
    const rows = this.rows.get(table) as Map<number, Row>;
    const n = this.rnd();
    let op: 'c' | 'u' | 'd' = rows.size < 3 || n < 0.4 ? 'c' : n < 0.85 ? 'u' : 'd';
    if (table === 'menus' && op === 'd' && !this.opts.menuRenames) op = 'u';
    const before = op === 'c' ? null : (this.some(table) ?? null);
    const after =
      op === 'c' ? this.fresh(table) : op === 'u' && before ? this.changed(table, before) : null;
    if ((op !== 'c' && !before) || (op !== 'd' && !after)) return undefined;
    return { table, op, before, after: after ?? null };
  }

  /** A code rename of a menu some active user holds, and the holders (none: no such menu). */
  menuWithHolders(): { change: Change; holders: number[] } | undefined {
    const auth = [...(this.rows.get('user_auth') as Map<number, Row>).values()];
    const users = this.rows.get('users') as Map<number, Row>;
    const menus = this.rows.get('menus') as Map<number, Row>;
    const holders = (menuId: unknown) =>
      auth
        .filter((a) => a.menu_id === menuId && a.use_yn === 'Y')
        .map((a) => a.user_id as number)
        .filter((u) => users.get(u)?.use_yn === 'Y');
    const menu = this.pick([...menus.values()].filter((m) => holders(m.menu_id).length > 0));
    if (!menu) return undefined;
    const after = { ...menu, code: `om${menu.menu_id}-${this.next++}` };
    return {
      change: { table: 'menus', op: 'u', before: menu, after },
      holders: holders(menu.menu_id),
    };
  }

  /** A delete of a brand of the run that has products, and its products' categories. */
  brandWithProducts(): { change: Change; categories: number[] } | undefined {
    const products = [...(this.rows.get('products') as Map<number, Row>).values()];
    const brands = this.rows.get('brands') as Map<number, Row>;
    const brand = this.pick(
      [...brands.values()].filter((b) => products.some((p) => p.brand_id === b.brand_id)),
    );
    if (!brand) return undefined;
    const categories = products
      .filter((p) => p.brand_id === brand.brand_id)
      .map((p) => p.category_id as number);
    return {
      change: { table: 'brands', op: 'd', before: brand, after: null },
      categories: [...new Set(categories)],
    };
  }

  /** A fresh brand with a product (so a cascade has a child to find). */
  async brandAndProduct(seq: number): Promise<void> {
    const brand = this.fresh('brands') as Row;
    await this.apply(seq, { table: 'brands', op: 'c', before: null, after: brand });
    const product = this.fresh('products') as Row;
    product.brand_id = brand.brand_id;
    await this.apply(seq, { table: 'products', op: 'c', before: null, after: product });
  }

  /** Makes the change in MySQL and mirrors it in the generator's state; false: not made. */
  async apply(seq: number, change: Change): Promise<boolean> {
    const { table, op, before, after } = change;
    const rows = this.rows.get(table) as Map<number, Row>;
    const pk = PK[table];
    const ident = sql.ident(table);
    try {
      if (op === 'c' && after) {
        const cols = Object.keys(after);
        await this.db.query(
          sql`INSERT INTO ${ident} (${sql.join(
            cols.map((c) => sql.ident(c)),
            ', ',
          )}) VALUES (${sql.join(
            cols.map((c) => sql`${after[c]}`),
            ', ',
          )})`,
        );
      } else if (op === 'u' && before && after) {
        const sets = Object.keys(after)
          .filter((c) => after[c] !== before[c])
          .map((c) => sql`${sql.ident(c)} = ${after[c]}`);
        if (sets.length === 0) return false;
        await this.db.query(
          sql`UPDATE ${ident} SET ${sql.join(sets, ', ')} WHERE ${sql.ident(pk)} = ${before[pk]}`,
        );
      } else if (before) {
        await this.db.query(sql`DELETE FROM ${ident} WHERE ${sql.ident(pk)} = ${before[pk]}`);
      }
    } catch (err) {
      this.failed += 1;
      if (this.failed <= 3)
        console.warn(`oracle: write ${seq} ${table} ${op} failed: ${(err as Error).message}`);
      return false;
    }
    const id = (after ?? before)?.[pk] as number;
    if (after) {
      rows.set(id, after);
      this.track(table, after);
    } else {
      rows.delete(id);
      if (this.opts.fkCascades) this.cascade(table, id);
    }
    this.log.push({ seq, at: Date.now(), table, op, before, after: after ?? null });
    return true;
  }

  /** What ON DELETE CASCADE did below the binlog, mirrored in the generator's state. */
  private cascade(table: Table, id: number): void {
    const children: [Table, string][] =
      table === 'users'
        ? [['user_auth', 'user_id']]
        : table === 'brands'
          ? [['products', 'brand_id']]
          : [];
    for (const [child, column] of children) {
      const map = this.rows.get(child) as Map<number, Row>;
      for (const [k, r] of map) if (r[column] === id) map.delete(k);
    }
  }

  async truncate(table: Table, seq: number): Promise<void> {
    await this.db.query(sql`TRUNCATE TABLE ${sql.ident(table)}`);
    (this.rows.get(table) as Map<number, Row>).clear();
    this.log.push({ seq, at: Date.now(), table, op: 't', before: null, after: null });
  }

  /** Every key the readers fill, in groups of one key shape (readers pick a group, then a key). */
  keys(): [Family, string][][] {
    const size = this.users.size + this.codes.size + this.brandIds.size + this.brandCodes.size;
    if (this.keyCache?.size !== size) this.keyCache = { size, groups: this.buildKeys() };
    return this.keyCache.groups;
  }
  private keyCache: { size: number; groups: [Family, string][][] } | undefined;

  private buildKeys(): [Family, string][][] {
    const users = [...this.users];
    const group = (family: Family, keys: string[]): [Family, string][] =>
      keys.map((k) => [family, k]);
    const days = DAYS.map((d) => d.replace(/-/g, ''));
    const brands = [...this.brandIds];
    return [
      group('master', ['master:departments', 'master:brands']),
      group(
        'session',
        users.map((u) => `session:user:${u}`),
      ),
      group(
        'permissions',
        users.map((u) => `permissions:user:${u}`),
      ),
      group(
        'permissions',
        [...this.codes].map((c) => `permissions:menu:${c}`),
      ),
      group(
        'master',
        this.categories().map((c) => `master:products:category:${c}`),
      ),
      group(
        'stats',
        days.map((d) => `stats:daily_sales:${d}`),
      ),
      group(
        'stats',
        [...new Set(DAYS.map((d) => d.slice(0, 7).replace('-', '')))].map(
          (m) => `stats:monthly_revenue:${m}`,
        ),
      ),
      group(
        'stats',
        brands.map((b) => `stats:sales:brand:${b}`),
      ),
      group(
        'stats',
        brands.flatMap((b) => days.map((d) => `stats:daily_sales:brand:${b}:${d}`)),
      ),
      group(
        'stats',
        [...this.brandCodes].flatMap((c) => days.map((d) => `stats:serial_count:${c}:${d}`)),
      ),
    ].filter((g) => g.length > 0);
  }
}

export const SCRATCH = 'mis_oracle_scratch';

export type Aim = 'race' | 'menu-holders' | 'cascade';
export interface AimContext {
  readonly writer: Writer;
  readonly app: Application;
  readonly rules: RuleSet;
  readonly dbOf: (f: Family) => Redis;
}

/** One targeted write (see OracleOptions.targeted); false when none could be made. */
export async function aim(kind: Aim, seq: number, ctx: AimContext): Promise<boolean> {
  const { writer, app } = ctx;
  if (kind === 'menu-holders') {
    const m = writer.menuWithHolders();
    if (!m) return false;
    for (const u of m.holders) {
      await app.read('session', `session:user:${u}`);
      await app.read('permissions', `permissions:user:${u}`);
    }
    return writer.apply(seq, m.change);
  }
  if (kind === 'cascade') {
    if (!writer.brandWithProducts()) await writer.brandAndProduct(seq);
    const b = writer.brandWithProducts();
    if (!b) return false;
    for (const c of b.categories) await app.read('master', `master:products:category:${c}`);
    return writer.apply(seq, b.change);
  }
  return race(seq, ctx);
}

/**
 * A reader racing a writer on one key: the key is cached, a slow reader builds its value from
 * MySQL, the row changes, the service deletes the key, and only then the reader SETs the value
 * it built. The second pass (1 s later) must delete it again.
 */
async function race(seq: number, { writer, app, rules, dbOf }: AimContext): Promise<boolean> {
  for (let tries = 0; tries < 20; tries++) {
    const change = writer.random();
    if (!change) continue;
    for (const [family, key] of keysOf(rules, change)) {
      const cached = await app.read(family, key);
      if (cached === null) continue; // a key the application would not cache
      const client = dbOf(family);
      let made = false;
      await app.readAround(family, key, async () => {
        made = await writer.apply(seq, change);
        if (!made) return;
        try {
          // deleted by the service (or refilled by another reader after that)
          await waitFor(async () => (await client.get(key)) !== cached, 30_000, 'the delete', 10);
        } catch {
          console.warn(`oracle: race write ${seq}: ${key} not invalidated within 30 s`);
        }
      });
      return made;
    }
  }
  return false;
}

export async function cleanRange(db: ConnectionPool, base: number): Promise<void> {
  for (const t of TABLES) {
    await db.query(
      sql`DELETE FROM ${sql.ident(t)} WHERE ${sql.ident(PK[t])} BETWEEN ${base} AND ${base + 199_999}`,
    );
  }
}

/**
 * A run killed before its cleanup left the truncated table's rows in the scratch database and
 * its foreign keys in place: put both back before this run starts.
 */
export async function recoverKilledRun(db: ConnectionPool): Promise<void> {
  const left = await db.query(
    sql`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ${SCRATCH}`,
  );
  for (const { t } of left as { t: string }[]) {
    console.warn(`oracle: restoring ${t} from ${SCRATCH}, left by a killed run`);
    await db.query(sql`INSERT IGNORE INTO ${sql.ident(t)} SELECT * FROM ${sql.ident(SCRATCH, t)}`);
  }
  await db.query(sql`DROP DATABASE IF EXISTS ${sql.ident(SCRATCH)}`);
  await dropForeignKeys(db);
}

/**
 * The run's ON DELETE CASCADE keys. The service reads the FK graph at start, so a test adds them
 * before it starts the service (`runOracle` adds them again, idempotently, after a recovery).
 */
export async function addForeignKeys(db: ConnectionPool): Promise<void> {
  await dropForeignKeys(db);
  await db.tx(async (c) => {
    await c.query(sql`SET foreign_key_checks = 0`);
    await c.query(
      sql`ALTER TABLE user_auth ADD CONSTRAINT fk_oracle_auth_user FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE`,
    );
    await c.query(
      sql`ALTER TABLE products ADD CONSTRAINT fk_oracle_product_brand FOREIGN KEY (brand_id) REFERENCES brands (brand_id) ON DELETE CASCADE`,
    );
    await c.query(sql`SET foreign_key_checks = 1`);
  });
}

export async function dropForeignKeys(db: ConnectionPool): Promise<void> {
  await db.query(sql`ALTER TABLE user_auth DROP FOREIGN KEY IF EXISTS fk_oracle_auth_user`);
  await db.query(sql`ALTER TABLE products DROP FOREIGN KEY IF EXISTS fk_oracle_product_brand`);
}

export const PLAN_OPTIONS: PlanOptions = {
  snapshotInvalidates: false,
  refreshFamilies: new Set(),
  zones: { business: 'Asia/Seoul', database: 'Asia/Seoul' },
};

/** The literal keys the shipped rules delete for a change (patterns and related rows left out). */
export function keysOf(rules: RuleSet, c: Change): [Family, string][] {
  const rule = rules.get(c.table);
  if (!rule) return [];
  return planEvent({ op: c.op, before: c.before, after: c.after, source: {} }, rule, PLAN_OPTIONS)
    .filter((o) => o.action === 'delete')
    .map((o) => [o.family, o.key]);
}
