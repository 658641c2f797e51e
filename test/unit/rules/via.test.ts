import { compileRule } from '../../../src/rules/compile';

const rule = (via: unknown, action = 'delete') => ({
  table: 'menus',
  targets: [
    {
      key: 'session:user:{user_id}',
      family: 'session',
      action,
      via,
      ...(action === 'refresh' ? { loader: { sql: 'SELECT 1 FROM t WHERE u = {user_id}' } } : {}),
    },
  ],
});

describe('via targets', () => {
  it('compile to { table, column, on }', () => {
    const compiled = compileRule(
      rule({ table: 'user_auth', column: 'menu_id', on: 'menu_id' }),
      'f',
    );
    expect(compiled.targets[0]?.via).toEqual({
      table: 'user_auth',
      column: 'menu_id',
      on: 'menu_id',
    });
  });

  it.each([
    [
      'a refresh target',
      rule({ table: 't', column: 'c', on: 'o' }, 'refresh'),
      /targets\[0\]\.via: only a "delete" target takes via/,
    ],
    ['a missing column', rule({ table: 't', on: 'o' }), /targets\[0\]\.via\.column: must be/],
    [
      'an unknown setting',
      rule({ table: 't', column: 'c', on: 'o', x: 1 }),
      /via\.x: is not a via setting/,
    ],
    ['a non-object', rule('user_auth'), /via: must be an object/],
  ])('reject %s, naming the field', (_label, value, message) => {
    expect(() => compileRule(value, 'consumers/menus.ts')).toThrow(message);
  });
});
