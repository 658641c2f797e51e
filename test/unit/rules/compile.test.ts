import { compileRule } from '../../../src/rules/compile';

const ok = {
  table: 'brands',
  targets: [{ key: 'master:brands', family: 'master', action: 'delete' }],
};
const target = (t: Record<string, unknown>) => ({
  ...ok,
  targets: [{ key: 'k', family: 'stats', action: 'delete', ...t }],
});

describe('compileRule', () => {
  it('compiles loader placeholders to bound parameters', () => {
    const rule = compileRule(
      target({
        key: 'k:{a}',
        action: 'refresh',
        loader: { sql: 'SELECT * FROM t WHERE a = {a} OR b = {a}' },
      }),
      'f',
    );
    expect(rule.targets[0]?.compiledLoader).toEqual({
      text: 'SELECT * FROM t WHERE a = ? OR b = ?',
      params: ['a', 'a'],
    });
  });

  it('compiles a valid rule and freezes it', () => {
    const rule = compileRule(ok, 'consumers/brands.ts');
    expect(rule.table).toBe('brands');
    expect(rule.file).toBe('consumers/brands.ts');
    expect(rule.targets[0]?.template.fields).toEqual([]);
    expect(Object.isFrozen(rule)).toBe(true);
  });

  it.each([
    ['a non-object export', 42, 'rule'],
    ['a bad table name', { ...ok, table: 'a-b' }, 'table'],
    ['no targets', { ...ok, targets: [] }, 'targets'],
    ['a target that is not an object', { ...ok, targets: ['x'] }, 'targets[0]'],
    ['an empty key', target({ key: '', action: 'delete' }), 'targets[0].key'],
    ['an unknown db', target({ family: 'queue' }), 'targets[0].family'],
    ['an unknown action', target({ key: 'k', action: 'purge' }), 'targets[0].action'],
    ['a bad placeholder', target({ key: 'k:{1}', action: 'delete' }), 'targets[0].key'],
    ['a glob in a delete', target({ key: 'k:*', action: 'delete' }), 'targets[0].key'],
    ['a non-string why', target({ why: 1 }), 'targets[0].why'],
    ['an unknown target setting', target({ db: 1 }), 'targets[0].db'],
    ['a refresh without loader', target({ action: 'refresh' }), 'targets[0].loader.sql'],
    [
      'a loader that is not a SELECT',
      target({ action: 'refresh', loader: { sql: 'DELETE FROM x' } }),
      'targets[0].loader.sql',
    ],
    ['a loader on a delete', target({ loader: { sql: 'SELECT 1' } }), 'targets[0].loader'],
    [
      'an existsOnlyIf that is not a SELECT',
      target({ existsOnlyIf: { sql: 'UPDATE x' } }),
      'targets[0].existsOnlyIf.sql',
    ],
    [
      'a loader placeholder not in the key',
      target({ key: 'k:{a}', action: 'refresh', loader: { sql: 'SELECT * FROM t WHERE b = {b}' } }),
      'targets[0].loader.sql',
    ],
    ['a bad condition op', target({ when: { ops: ['x'] } }), 'targets[0].when.ops'],
    ['an unknown condition', target({ when: { sometimes: true } }), 'targets[0].when.sometimes'],
    ['a bad column type', { ...ok, columns: { d: 'time' } }, 'columns.d'],
    ['a bad format', target({ key: 'k:{d|ddmmyy}' }), 'targets[0].key'],
  ])('rejects %s, naming the file and field', (_label, value, field) => {
    expect(() => compileRule(value, 'consumers/x.ts')).toThrow(`consumers/x.ts: ${field}:`);
  });
});
