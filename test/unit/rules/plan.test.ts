import { decodeEnvelope } from '../../../src/envelope/decode';
import { compileRule } from '../../../src/rules/compile';
import { planEvent, sourceVersion } from '../../../src/rules/plan';
import { mergeOp, type KeyOp } from '../../../src/rules/ops';
import { payload } from '../../support/envelopes';
import { planOptions } from '../../support/rules';

const rule = compileRule(
  {
    table: 'users',
    targets: [
      {
        key: 'session:user:{user_id}',
        family: 'session',
        action: 'delete',
        when: { changed: ['use_yn', 'dept_id'] },
      },
      {
        key: 'temp:user:{user_id}',
        family: 'temp',
        action: 'delete',
        when: { ops: ['d'] },
        why: 'on delete only',
      },
    ],
  },
  'rule.ts',
);
const user = (extra: Record<string, unknown> = {}) => ({
  user_id: 1,
  username: 'a',
  dept_id: 1,
  use_yn: 'Y',
  ...extra,
});
const plan = (op: string, before: unknown, after: unknown, explain = false) =>
  planEvent(
    decodeEnvelope(payload({ op, before: before as never, after: after as never, table: 'users' })),
    rule,
    planOptions({ explain }),
  );

describe('planEvent conditions', () => {
  it('`changed` skips updates that leave the listed columns alone', () => {
    expect(plan('u', user(), user({ username: 'b' }))).toEqual([]);
    expect(plan('u', user(), user({ use_yn: 'N' })).map((o) => o.key)).toEqual(['session:user:1']);
  });
  it('`changed` does not hold back creates and deletes; `ops` restricts operations', () => {
    expect(plan('c', null, user()).map((o) => o.key)).toEqual(['session:user:1']);
    expect(plan('d', user(), null).map((o) => o.key)).toEqual(['session:user:1', 'temp:user:1']);
  });
  it('explains each operation with the rule, image and fields used', () => {
    const [op] = plan('d', user(), null, true);
    expect(op?.reason).toEqual({
      table: 'users',
      file: 'rule.ts',
      target: 0,
      template: 'session:user:{user_id}',
      image: 'before',
      fields: { user_id: 1 },
    });
  });
});

describe('versions', () => {
  it('order by binlog file and position, else by commit time', () => {
    const a = sourceVersion({ file: 'mysql-bin.000002', pos: 999 });
    const b = sourceVersion({ file: 'mysql-bin.000002', pos: 1000 });
    const c = sourceVersion({ file: 'mysql-bin.000010', pos: 4 });
    expect(a < b && b < c).toBe(true);
    expect(sourceVersion({ tsMs: 5 }) < sourceVersion({ tsMs: 10 })).toBe(true);
  });

  it('the newer refresh of a key wins within a batch', () => {
    const ops = new Map<string, KeyOp>();
    const refresh = (version: string): KeyOp => ({
      family: 'master',
      action: 'refresh',
      key: 'k',
      sql: 's',
      params: [],
      version,
    });
    mergeOp(ops, refresh('b:2'));
    mergeOp(ops, refresh('b:1'));
    expect([...ops.values()]).toEqual([refresh('b:2')]);
    mergeOp(ops, refresh('b:3'));
    expect([...ops.values()]).toEqual([refresh('b:3')]);
  });
});

describe('an update that leaves a target key columns alone', () => {
  const products = compileRule(
    {
      table: 'products',
      targets: [
        { key: 'temp:product:{product_id}', family: 'temp', action: 'delete' },
        {
          key: 'master:products:category:{category_id}',
          family: 'master',
          action: 'refresh',
          loader: { sql: 'SELECT {category_id} AS c' },
        },
      ],
    },
    'products.ts',
  );
  const row = (name: string) => ({ product_id: 5, category_id: 2, product_name: name });
  const planned = (explain: boolean) =>
    planEvent(
      decodeEnvelope(
        payload({ op: 'u', before: row('old'), after: row('new'), table: 'products' }),
      ),
      products,
      planOptions({ explain, refreshFamilies: new Set(['master']) }),
    );

  it('plans one operation per key, as when the images differ there', () => {
    const ops = planned(false);
    expect(ops.map((o) => [o.action, o.key])).toEqual([
      ['delete', 'temp:product:5'],
      ['refresh', 'master:products:category:2'],
    ]);
    expect(ops[1]?.action === 'refresh' && ops[1].params).toEqual([2]);
  });

  it('explain names the after image, as for any update', () => {
    expect(planned(true).map((o) => o.reason?.image)).toEqual(['after', 'after']);
  });
});
