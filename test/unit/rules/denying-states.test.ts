import { compileRule } from '../../../src/rules/compile';
import { keysFor } from '../../support/rules';

const user = (use_yn: string) => ({ user_id: 5, username: 'u', dept_id: 1, use_yn });
const auth = (extra: Record<string, unknown> = {}) => ({
  auth_id: 9,
  user_id: 5,
  menu_id: 2,
  create_yn: 'N',
  read_yn: 'Y',
  update_yn: 'N',
  delete_yn: 'N',
  use_yn: 'Y',
  ...extra,
});
const both = ['permissions delete permissions:user:5', 'session delete session:user:5'];

describe('snapshot reads of rows in a denying state', () => {
  it('a disabled user read by a snapshot drops its keys with snapshot invalidation off', () => {
    expect(keysFor('users', { op: 'r', after: user('N'), snapshot: 'true' })).toEqual(both);
    expect(keysFor('users', { op: 'r', after: user('Y'), snapshot: 'true' })).toEqual([]);
  });

  it('a disabled or revoked user_auth row drops the map and the session; an active one nothing', () => {
    expect(keysFor('user_auth', { op: 'r', after: auth({ use_yn: 'N' }) })).toEqual(both);
    expect(keysFor('user_auth', { op: 'r', after: auth({ read_yn: 'N' }) })).toEqual(both);
    expect(keysFor('user_auth', { op: 'r', after: auth() })).toEqual([]);
  });

  it('tables without denying states stay quiet on snapshot reads', () => {
    const brand = { brand_id: 1, brand_name: 'x', brand_code: 'X', sort: 1, use_yn: 'N' };
    expect(keysFor('brands', { op: 'r', after: brand })).toEqual([]);
  });

  it('are validated at start: a list of { column: value | [values] }', () => {
    const rule = (denyingStates: unknown) => ({
      table: 't',
      targets: [{ key: 'temp:{id}', family: 'temp', action: 'delete' }],
      denyingStates,
    });
    expect(compileRule(rule([{ status: ['X', 'Y'] }]), 'r.ts').denyingStates).toEqual([
      { status: ['X', 'Y'] },
    ]);
    expect(() => compileRule(rule([]), 'r.ts')).toThrow('r.ts: denyingStates: must be a non-empty');
    expect(() => compileRule(rule([{ a: { b: 1 } }]), 'r.ts')).toThrow(
      'r.ts: denyingStates[0].a: must be a value',
    );
  });
});
