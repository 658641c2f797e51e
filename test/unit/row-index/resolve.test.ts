/** The resolve step with plain fakes of the row index and MySQL (no services). */
import type { ChangeEvent, Row } from '../../../src/envelope/types';
import { SyncError } from '../../../src/core/errors';
import type { FkEdge, SchemaGraph } from '../../../src/row-index/fk-graph';
import { resolveRows, type RowEvent } from '../../../src/row-index/resolve';
import type {
  IndexEntry,
  IndexReadRequest,
  IndexReadResult,
  IndexWriteRequest,
  RelatedRowsPort,
  RowIndexPort,
} from '../../../src/row-index/ports';
import { buildRowModel } from '../../../src/row-index/model';
import {
  PRODUCTS_BRAND_CASCADE,
  describe as describeOp,
  planOptions,
  shippedRules,
} from '../../support/rules';

/** In-memory row index with the storage's read semantics. */
class FakeIndex implements RowIndexPort {
  entries = new Map<string, IndexEntry>();
  refs = new Map<string, Set<string>>();
  complete = new Set<string>();
  writes: IndexWriteRequest[] = [];
  put(ns: string, pk: string, row: Row | null, refs: string[] = [], v = 'b:f:0001') {
    this.entries.set(`${ns}|${pk}`, { v, row });
    for (const r of refs) {
      const set = this.refs.get(`${ns}|${r}`) ?? new Set();
      set.add(pk);
      this.refs.set(`${ns}|${r}`, set);
    }
  }
  async read(reqs: readonly IndexReadRequest[]): Promise<IndexReadResult[]> {
    return reqs.map((r) => ({
      complete: this.complete.has(r.ns),
      entries: r.pks.map((pk) => this.entries.get(`${r.ns}|${pk}`) ?? null),
      refs: r.refs.map(([c, v]) =>
        [...(this.refs.get(`${r.ns}|${c}:${v}`) ?? [])].map((pk) => ({
          pk,
          entry: this.entries.get(`${r.ns}|${pk}`) ?? null,
        })),
      ),
    }));
  }
  async write(reqs: readonly IndexWriteRequest[]): Promise<void> {
    this.writes.push(...reqs);
  }
}

const GRAPH: SchemaGraph = {
  database: 'mis',
  primaryKeys: new Map(
    Object.entries({
      products: ['product_id'],
      brands: ['brand_id'],
      users: ['user_id'],
      user_auth: ['auth_id'],
      menus: ['menu_id'],
      trade_orders: ['order_id'],
      serials: ['serial_id'],
      departments: ['dept_id'],
    }),
  ),
  edges: [],
};
const CASCADE = PRODUCTS_BRAND_CASCADE;

function ctx(edges: FkEdge[] = []) {
  const model = buildRowModel(shippedRules, { ...GRAPH, edges });
  return { ...planOptions(), rules: shippedRules, model, topicPrefix: 'mis' };
}

function row(table: string, event: ChangeEvent | null, key: Row, version = 'b:f:0009'): RowEvent {
  return {
    place: { topic: `mis.mis.${table}`, partition: 0, offset: '1' },
    table,
    event,
    key,
    version,
  };
}

const flatUpdate = (after: Row): ChangeEvent => ({
  op: 'u',
  before: null,
  after,
  source: {},
  flattened: true,
});
const product = (id: number, category: number, brand = 1): Row => ({
  product_id: id,
  category_id: category,
  brand_id: brand,
  product_name: 'p',
});

async function keys(rows: RowEvent[], index: FakeIndex, c = ctx(), related?: RelatedRowsPort) {
  const res = await resolveRows(rows, c, index, related);
  return { keys: res.ops.map(describeOp).sort(), res };
}

describe('row model', () => {
  it('indexes the tables whose key columns can change, children of cascades and via tables', () => {
    const m = ctx([CASCADE]).model;
    expect([...m.indexed.keys()].sort()).toEqual([
      'menus',
      'products',
      'serials',
      'trade_orders',
      'user_auth',
    ]);
    expect(m.indexed.get('products')?.refColumns).toEqual(['brand_id']);
    expect(m.indexed.get('user_auth')?.columns).toEqual(['menu_id', 'user_id']);
    expect(m.cascades.map((c) => c.handling)).toEqual(['row-index']);
  });
});

describe('resolveRows', () => {
  it('a flattened update takes the old key columns from the index entry', async () => {
    const index = new FakeIndex();
    index.put('mis.products', '5', { category_id: 1, brand_id: 1 });
    const { keys: k, res } = await keys(
      [row('products', flatUpdate(product(5, 2)), { product_id: 5 })],
      index,
    );
    expect(k).toEqual([
      'master delete master:products:category:1',
      'master delete master:products:category:2',
    ]);
    expect(res.writes[0]?.rows[0]).toMatchObject({ pk: '5', row: { category_id: 2 } });
  });

  it('an entry missing while the index is incomplete: the family as a pattern, said', async () => {
    const { keys: k, res } = await keys(
      [row('products', flatUpdate(product(5, 2)), { product_id: 5 })],
      new FakeIndex(),
    );
    expect(k).toEqual(['master pattern-delete master:products:category:*']);
    expect(res.fallbacks[0]).toMatch(/products: flattened update .* not in the row index/);
  });

  it('an entry it cannot plan (column missing) falls back instead of stopping the partition', async () => {
    const index = new FakeIndex();
    index.put('mis.products', '5', { brand_id: 1 }); // written before category_id was indexed
    const { keys: k, res } = await keys(
      [row('products', flatUpdate(product(5, 2)), { product_id: 5 })],
      index,
    );
    // the old image's key cannot be computed: its pattern; the new image's key is exact
    expect(k).toEqual([
      'master delete master:products:category:2',
      'master pattern-delete master:products:category:*',
    ]);
    expect(res.fallbacks[0]).toMatch(/column "category_id" .* is missing/);
  });

  it('an entry missing from a complete index is a create: nothing more', async () => {
    const index = new FakeIndex();
    index.complete.add('mis.products');
    const { keys: k } = await keys(
      [row('products', flatUpdate(product(5, 2)), { product_id: 5 })],
      index,
    );
    expect(k).toEqual([]);
  });

  it('a lone tombstone deletes the keys of the indexed row; after its delete it does nothing', async () => {
    const index = new FakeIndex();
    index.put('mis.products', '5', { category_id: 3, brand_id: 1 });
    index.put('mis.products', '6', null);
    const { keys: k, res } = await keys(
      [row('products', null, { product_id: 5 }), row('products', null, { product_id: 6 })],
      index,
    );
    expect(k).toEqual(['master delete master:products:category:3']);
    expect(res.writes[0]?.rows).toEqual([{ pk: '5', v: 'b:f:0001~', row: null, refs: [] }]);
  });

  it('a parent delete finds its cascaded children in the index, or falls back to patterns', async () => {
    const index = new FakeIndex();
    index.complete.add('mis.products');
    index.put('mis.products', '7', { category_id: 11, brand_id: 4 }, ['brand_id:4']);
    index.put('mis.products', '8', { category_id: 12, brand_id: 4 }, ['brand_id:4']);
    const brandDelete = row(
      'brands',
      { op: 'd', before: { brand_id: 4, brand_code: 'X' }, after: null, source: {} },
      { brand_id: 4 },
    );
    const { keys: k, res } = await keys([brandDelete], index, ctx([CASCADE]));
    expect(k).toContain('master delete master:products:category:11');
    expect(k).toContain('master delete master:products:category:12');
    expect(res.writes.find((w) => w.ns === 'mis.products')?.rows.map((r) => r.row)).toEqual([
      null,
      null,
    ]);
    index.complete.clear();
    const fallback = await keys([brandDelete], index, ctx([CASCADE]));
    expect(fallback.keys).toContain('master pattern-delete master:products:category:*');
    expect(fallback.res.fallbacks[0]).toMatch(/fk_products_brand ON DELETE CASCADE of brands 4/);
  });

  const menuRename = row(
    'menus',
    {
      op: 'u',
      before: { menu_id: 9, code: 'a', name: 'n', sort: 1, use_yn: 'Y' },
      after: { menu_id: 9, code: 'b', name: 'n', sort: 1, use_yn: 'Y' },
      source: {},
    },
    { menu_id: 9 },
  );
  const holderKeys = (id: number) => [
    `permissions delete permissions:user:${id}`,
    `session delete session:user:${id}`,
  ];

  it('menus: the holders from the user_auth index', async () => {
    const index = new FakeIndex();
    index.complete.add('mis.user_auth');
    index.put('mis.user_auth', '100', { user_id: 21, menu_id: 9 }, ['menu_id:9']);
    expect((await keys([menuRename], index)).keys).toEqual(holderKeys(21));
  });

  it('menus: the holders from MySQL while the index is incomplete; a failed lookup is retryable', async () => {
    const asked: unknown[] = [];
    const related: RelatedRowsPort = {
      rowsWhere: async (table, column, values, columns) => {
        asked.push({ table, column, values, columns });
        return [{ user_id: 22, menu_id: 9 }];
      },
    };
    expect((await keys([menuRename], new FakeIndex(), ctx(), related)).keys).toEqual(
      holderKeys(22),
    );
    expect(asked).toEqual([
      { table: 'user_auth', column: 'menu_id', values: ['9'], columns: ['user_id', 'menu_id'] },
    ]);
    const down: RelatedRowsPort = {
      rowsWhere: async () => {
        throw new Error('connect ECONNREFUSED');
      },
    };
    const err = await keys([menuRename], new FakeIndex(), ctx(), down).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SyncError);
    expect(err).toMatchObject({ code: 'MYSQL_UNAVAILABLE', retryable: true });
  });

  it('menus: neither index nor MySQL: every session and permission map as a pattern', async () => {
    const { keys: k, res } = await keys([menuRename], new FakeIndex());
    expect(k).toEqual([
      'permissions pattern-delete permissions:user:*',
      'session pattern-delete session:user:*',
    ]);
    expect(res.fallbacks).toHaveLength(2);
  });
});

describe("an update that leaves a row's indexed columns as they were", () => {
  const update = (before: Row, after: Row): ChangeEvent => ({ op: 'u', before, after, source: {} });
  const authRow = (menu: number, read = 'Y'): Row => ({
    auth_id: 100,
    user_id: 21,
    menu_id: menu,
    read_yn: read,
  });
  const written = (res: { writes: IndexWriteRequest[] }, ns: string) =>
    res.writes.find((w) => w.ns === ns);

  it('writes no entry (the entry holds that content already), only where the partition stands', async () => {
    const { res } = await keys(
      [
        row(
          'user_auth',
          update(authRow(9, 'Y'), authRow(9, 'N')),
          { auth_id: 100 },
          'p:f.000001:0010',
        ),
      ],
      new FakeIndex(),
    );
    const w = written(res, 'mis.user_auth');
    expect(w?.rows).toEqual([]);
    expect(w?.stream?.records).toEqual([['1', 'p:f.000001:0010']]);
  });

  it('writes the entry when an indexed column changed, or an image lacks one', async () => {
    const moved = await keys(
      [row('user_auth', update(authRow(9), authRow(10)), { auth_id: 100 })],
      new FakeIndex(),
    );
    expect(written(moved.res, 'mis.user_auth')?.rows.map((r) => r.refs)).toEqual([['menu_id:10']]);
    const minimal = await keys(
      [row('user_auth', update({ auth_id: 100 }, authRow(9)), { auth_id: 100 })],
      new FakeIndex(),
    );
    expect(written(minimal.res, 'mis.user_auth')?.rows).toHaveLength(1);
  });

  it('writes the entry of a table a cascade writes entries to', async () => {
    const { res } = await keys(
      [
        row('products', update(product(5, 1), { ...product(5, 1), product_name: 'q' }), {
          product_id: 5,
        }),
      ],
      new FakeIndex(),
      ctx([CASCADE]),
    );
    expect(written(res, 'mis.products')?.rows.map((r) => r.pk)).toEqual(['5']);
  });
});

describe('the index keyed by the primary key, not the record key', () => {
  // message.key.columns=user_auth:user_id: every permission row of one user shares a record key.
  const auth = (id: number, menu: number): ChangeEvent => ({
    op: 'c',
    before: null,
    after: { auth_id: id, user_id: 21, menu_id: menu, use_yn: 'Y', read_yn: 'Y' },
    source: {},
  });

  it('two rows of one record key get an entry each, by primary key', async () => {
    const { res } = await keys(
      [
        row('user_auth', auth(100, 9), { user_id: 21 }),
        row('user_auth', auth(101, 10), { user_id: 21 }),
      ],
      new FakeIndex(),
    );
    expect(
      res.writes.find((w) => w.ns === 'mis.user_auth')?.rows.map((r) => [r.pk, r.refs]),
    ).toEqual([
      ['100', ['menu_id:9']],
      ['101', ['menu_id:10']],
    ]);
  });

  it('a flattened update reads the entry of its primary key, a tombstone of another key falls back', async () => {
    const index = new FakeIndex();
    index.put('mis.products', '5', { category_id: 1, brand_id: 1 });
    index.put('mis.products', '77', { category_id: 8, brand_id: 1 }); // what the record key names
    const moved = await keys(
      [row('products', flatUpdate(product(5, 2)), { product_name: '77' })],
      index,
    );
    expect(moved.keys).toEqual([
      'master delete master:products:category:1',
      'master delete master:products:category:2',
    ]);
    index.complete.add('mis.products');
    const gone = await keys([row('products', null, { product_name: '77' })], index);
    expect(gone.keys).toEqual(['master pattern-delete master:products:category:*']);
    expect(gone.res.fallbacks[0]).toMatch(/tombstone .* primary key .* not in the record key/);
  });
});
