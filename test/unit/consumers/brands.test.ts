import { keysFor } from '../../support/rules';

const brand = (id: number, extra: Record<string, unknown> = {}) => ({
  brand_id: id,
  brand_name: '리안',
  brand_code: 'REAN',
  sort: 1,
  use_yn: 'Y',
  ...extra,
});
const brandKeys = (id: string) => [
  'master delete master:brands',
  `stats pattern-delete stats:*:brand:${id}`,
  `stats pattern-delete stats:*:brand:${id}:*`,
];

describe('consumers/brands', () => {
  it.each(['c', 'u', 'd'])('op %s drops the brand list and the brand statistics', (op) => {
    const parts =
      op === 'c'
        ? { op, after: brand(1) }
        : op === 'd'
          ? { op, before: brand(1) }
          : { op, before: brand(1), after: brand(1, { brand_name: '리안 뉴' }) };
    expect(keysFor('brands', parts)).toEqual(brandKeys('1').sort());
  });

  it('a primary-key move dirties both brands', () => {
    const keys = keysFor('brands', { op: 'u', before: brand(1), after: brand(10) });
    expect(keys).toEqual([...new Set([...brandKeys('1'), ...brandKeys('10')])].sort());
  });

  it('snapshot reads do nothing unless configured', () => {
    expect(keysFor('brands', { op: 'r', after: brand(2) })).toEqual([]);
    expect(keysFor('brands', { op: 'r', after: brand(2) }, { snapshotInvalidates: true })).toEqual(
      brandKeys('2').sort(),
    );
  });

  it('truncate drops every brand statistic', () => {
    expect(keysFor('brands', { op: 't' })).toEqual(brandKeys('*').sort());
  });
});
