import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadRules } from '../../../src/rules/registry';

describe('loadRules', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mcs-rules-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, body: string) => writeFileSync(path.join(dir, name), body);
  const rule = (table: string) =>
    `module.exports = { table: '${table}', targets: [{ key: 'k:{id}', family: 'stats', action: 'delete' }] };`;

  it('loads the shipped consumers folder: one table per file', () => {
    const rules = loadRules();
    expect(rules.tables).toEqual([
      'brands',
      'departments',
      'menus',
      'products',
      'serials',
      'trade_orders',
      'user_auth',
      'users',
    ]);
    expect(rules.get('brands')?.file).toMatch(/consumers[/\\]brands\.ts$/);
    expect(rules.get('nope')).toBeUndefined();
  });

  it('adds a table by adding a file', () => {
    write('a.js', rule('alpha'));
    write('b.js', rule('beta'));
    write('notes.md', 'ignored');
    expect(loadRules(dir).tables).toEqual(['alpha', 'beta']);
  });

  it('reads YAML rule files and names the file of a YAML error', () => {
    write(
      'a.yaml',
      'table: alpha\ntargets:\n  - { key: "k:{id}", family: stats, action: delete }\n',
    );
    expect(loadRules(dir).get('alpha')?.targets[0]?.template.fields).toEqual(['id']);
    write('b.yml', 'table: [unclosed');
    expect(() => loadRules(dir)).toThrow(/b\.yml: is not valid YAML/);
  });

  it('refuses two files ruling the same table', () => {
    write('a.js', rule('alpha'));
    write('b.js', rule('alpha'));
    expect(() => loadRules(dir)).toThrow(/b\.js: table: "alpha" is already ruled by .*a\.js/);
  });

  it('names a file that does not load', () => {
    write('bad.js', 'throw new Error("boom")');
    expect(() => loadRules(dir)).toThrow(/bad\.js: cannot be loaded: boom/);
  });

  it('refuses an empty or missing folder', () => {
    expect(() => loadRules(dir)).toThrow(/has no table rules/);
    expect(() => loadRules(path.join(dir, 'missing'))).toThrow(/cannot be read/);
  });
});
