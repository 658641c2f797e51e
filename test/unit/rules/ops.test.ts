import { mergeOp, type KeyOp } from '../../../src/rules/ops';

const del = (family: KeyOp['family'], key: string): KeyOp => ({ family, action: 'delete', key });
const refresh = (key: string, version: string): KeyOp => ({
  family: 'master',
  action: 'refresh',
  key,
  sql: 's',
  params: [],
  version,
});

function merged(ops: readonly KeyOp[]): KeyOp[] {
  const set = new Map<string, KeyOp>();
  for (const op of ops) mergeOp(set, op);
  return [...set.values()];
}

describe('mergeOp', () => {
  it('collapses the same operation, in the order first seen', () => {
    expect(merged([del('session', 'a'), del('session', 'b'), del('session', 'a')])).toEqual([
      del('session', 'a'),
      del('session', 'b'),
    ]);
  });

  it('keeps one key of two families, or of two actions, as two operations', () => {
    const pattern: KeyOp = { family: 'session', action: 'pattern-delete', key: 'a' };
    const ops = [
      del('session', 'a'),
      del('permissions', 'a'),
      pattern,
      refresh('a', 'p:1'),
      del('permissions', 'a'),
      refresh('a', 'p:2'),
      pattern,
    ];
    expect(merged(ops)).toEqual([
      del('session', 'a'),
      del('permissions', 'a'),
      pattern,
      refresh('a', 'p:2'),
    ]);
  });

  it('keeps the newer refresh of a key also when it is not the first operation of the key', () => {
    expect(merged([del('temp', 'k'), refresh('k', 'p:3'), refresh('k', 'p:1')])).toEqual([
      del('temp', 'k'),
      refresh('k', 'p:3'),
    ]);
  });

  it('never mixes a key starting with NUL with the id of another operation', () => {
    // the long id of the permissions delete of `a`, as a key of its own
    const lookalike = del('session', '\u0000permissions\u0000delete\u0000a');
    expect(merged([del('session', 'a'), lookalike, del('permissions', 'a')])).toEqual([
      del('session', 'a'),
      lookalike,
      del('permissions', 'a'),
    ]);
  });
});
