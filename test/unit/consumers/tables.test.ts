/** Key mapping of every shipped table rule (brands and user_auth have their own files). */
import { keysFor, opsFor } from '../../support/rules';

describe('consumers/users', () => {
  const user = (id: number, use = 'Y') => ({
    user_id: id,
    username: '김철수',
    dept_id: 2,
    use_yn: use,
  });
  const keys = (id: number) => [
    `permissions delete permissions:user:${id}`,
    `session delete session:user:${id}`,
  ];

  it('disabling a user drops the session and permissions at once', () => {
    expect(keysFor('users', { op: 'u', before: user(5), after: user(5, 'N') })).toEqual(keys(5));
  });
  it('creates and deletes invalidate (a cached "not found" goes stale on insert)', () => {
    expect(keysFor('users', { op: 'c', after: user(6) })).toEqual(keys(6));
    expect(keysFor('users', { op: 'd', before: user(6) })).toEqual(keys(6));
  });
  it('a primary-key change (delete + create) invalidates both ids', () => {
    expect([
      ...keysFor('users', { op: 'd', before: user(7) }),
      ...keysFor('users', { op: 'c', after: user(8) }),
    ]).toEqual([...keys(7), ...keys(8)]);
  });
});

describe('consumers/menus', () => {
  it("a renamed menu code drops both codes (the holders' keys come from the resolve step)", () => {
    const menu = (code: string) => ({
      menu_id: 1,
      code,
      name: '사용자 관리',
      sort: 1,
      use_yn: 'Y',
    });
    expect(
      keysFor('menus', { op: 'u', before: menu('admin_user'), after: menu('admin_users') }),
    ).toEqual([
      'permissions delete permissions:menu:admin_user',
      'permissions delete permissions:menu:admin_users',
    ]);
  });
  it('a truncate drops every permission map and session (via targets as patterns)', () => {
    expect(keysFor('menus', { op: 't' })).toEqual([
      'permissions pattern-delete permissions:menu:*',
      'permissions pattern-delete permissions:user:*',
      'session pattern-delete session:user:*',
    ]);
  });
});

describe('consumers/departments (YAML rule)', () => {
  const dept = { dept_id: 3, dept_name: '무역팀', sort: 3, use_yn: 'Y' };
  it('deletes the list by default', () => {
    expect(
      keysFor('departments', { op: 'u', before: dept, after: { ...dept, dept_name: '무역1팀' } }),
    ).toEqual(['master delete master:departments']);
  });
  it('rebuilds it when refresh is on for master', () => {
    const [op] = opsFor(
      'departments',
      { op: 'c', after: dept },
      { refreshFamilies: new Set(['master']) },
    );
    expect(op).toMatchObject({ action: 'refresh', key: 'master:departments', params: [] });
    expect(op?.action === 'refresh' && op.sql).toMatch(/^SELECT dept_id AS id/);
  });
  it('truncate drops the list', () => {
    expect(keysFor('departments', { op: 't' })).toEqual(['master delete master:departments']);
  });
});

describe('consumers/products', () => {
  const product = (category: number) => ({
    product_id: 9,
    category_id: category,
    brand_id: 1,
    product_name: '유모차',
    use_yn: 'Y',
  });
  it('a product moved to another category dirties both categories', () => {
    expect(keysFor('products', { op: 'u', before: product(1), after: product(2) })).toEqual([
      'master delete master:products:category:1',
      'master delete master:products:category:2',
    ]);
  });
  it('refresh binds the category of each image', () => {
    const ops = opsFor(
      'products',
      { op: 'u', before: product(1), after: product(2) },
      { refreshFamilies: new Set(['master']) },
    );
    expect(ops.map((o) => (o.action === 'refresh' ? [o.key, o.params] : null))).toEqual([
      ['master:products:category:1', [1]],
      ['master:products:category:2', [2]],
    ]);
  });
  it('truncate drops every category list', () => {
    expect(keysFor('products', { op: 't' })).toEqual([
      'master pattern-delete master:products:category:*',
    ]);
  });
});

describe('consumers/trade_orders', () => {
  const order = (date: unknown, brand = 1) => ({
    order_id: 1,
    order_no: 'T-1',
    order_date: date,
    brand_id: brand,
    channel: '온라인',
    amount: '12345.67',
    status: 'ORDERED',
  });
  const keys = (day: string, brand: number) => [
    `stats delete stats:daily_sales:${day}`,
    `stats delete stats:monthly_revenue:${day.slice(0, 6)}`,
    `stats pattern-delete stats:*:brand:${brand}`,
    `stats pattern-delete stats:*:brand:${brand}:*`,
  ];

  it('an order dirties its day, month and brand (DATE as text or as days without a schema)', () => {
    expect(keysFor('trade_orders', { op: 'c', after: order('2024-01-31') })).toEqual(
      keys('20240131', 1),
    );
    expect(keysFor('trade_orders', { op: 'c', after: order(19753) })).toEqual(keys('20240131', 1));
  });
  it('moving an order to another day, month and brand dirties old and new', () => {
    expect(
      keysFor('trade_orders', {
        op: 'u',
        before: order('2024-01-31', 1),
        after: order('2024-02-01', 12),
      }),
    ).toEqual([...keys('20240131', 1), ...keys('20240201', 12)].sort());
  });
  it('truncate drops every daily, monthly and brand statistic', () => {
    expect(keysFor('trade_orders', { op: 't' })).toEqual([
      'stats pattern-delete stats:*:brand:*',
      'stats pattern-delete stats:*:brand:*:*',
      'stats pattern-delete stats:daily_sales:*',
      'stats pattern-delete stats:monthly_revenue:*',
    ]);
  });
});

describe('consumers/serials', () => {
  const serial = (code: string, date: unknown) => ({
    serial_id: 1,
    serial_no: 'S1',
    brand_code: code,
    product_id: 1,
    created_date: date,
  });
  it('a serial dirties the count of its brand code and day', () => {
    expect(keysFor('serials', { op: 'c', after: serial('REAN', '2024-01-01') })).toEqual([
      'stats delete stats:serial_count:REAN:20240101',
    ]);
  });
  it('a serial moved to another brand code dirties both counts', () => {
    expect(
      keysFor('serials', { op: 'u', before: serial('REAN', 19723), after: serial('NUNA', 19723) }),
    ).toEqual([
      'stats delete stats:serial_count:NUNA:20240101',
      'stats delete stats:serial_count:REAN:20240101',
    ]);
  });
});
