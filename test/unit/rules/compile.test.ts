import { compileRule } from '../../../src/rules/compile';

const ok = { table: 'brands', targets: [{ key: 'master:brands', db: 'cache', action: 'delete' }] };

describe('compileRule', () => {
  it('compiles a valid rule and freezes it', () => {
    const rule = compileRule(ok, 'consumers/brands.ts');
    expect(rule.table).toBe('brands');
    expect(rule.file).toBe('consumers/brands.ts');
    expect(rule.targets[0]?.template.fields).toEqual([]);
    expect(Object.isFrozen(rule)).toBe(true);
  });

  it.each([
    ['a non-object export', 42, 'default export'],
    ['a bad table name', { ...ok, table: 'a-b' }, 'table'],
    ['no targets', { ...ok, targets: [] }, 'targets'],
    ['a target that is not an object', { ...ok, targets: ['x'] }, 'targets[0]'],
    [
      'an empty key',
      { ...ok, targets: [{ key: '', db: 'cache', action: 'delete' }] },
      'targets[0].key',
    ],
    [
      'an unknown db',
      { ...ok, targets: [{ key: 'k', db: 'queue', action: 'delete' }] },
      'targets[0].db',
    ],
    [
      'an unknown action',
      { ...ok, targets: [{ key: 'k', db: 'cache', action: 'refresh' }] },
      'targets[0].action',
    ],
    [
      'a bad placeholder',
      { ...ok, targets: [{ key: 'k:{1}', db: 'cache', action: 'delete' }] },
      'targets[0].key',
    ],
    [
      'a glob in a delete',
      { ...ok, targets: [{ key: 'k:*', db: 'cache', action: 'delete' }] },
      'targets[0].key',
    ],
    [
      'a non-string why',
      { ...ok, targets: [{ key: 'k', db: 'cache', action: 'delete', why: 1 }] },
      'targets[0].why',
    ],
  ])('rejects %s, naming the file and field', (_label, value, field) => {
    expect(() => compileRule(value, 'consumers/x.ts')).toThrow(`consumers/x.ts: ${field}:`);
  });
});
