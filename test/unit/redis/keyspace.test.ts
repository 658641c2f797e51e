import { globToRegExp, literalPrefix } from '../../../src/redis/keyspace';
import { escapeGlob } from '../../../src/rules/template';

describe('glob helpers', () => {
  it.each([
    ['stats:*:brand:1', 'stats:daily:brand:1', true],
    ['stats:*:brand:1', 'stats:daily:brand:10', false],
    ['stats:*:brand:1:*', 'stats:m:brand:1:x:y', true],
    ['stats:*:brand:1:*', 'stats:m:brand:12:x', false],
    ['k:?', 'k:a', true],
    ['k:?', 'k:ab', false],
    ['k:[ab]', 'k:b', true],
    ['k:[^ab]', 'k:b', false],
    ['k:[a-c]', 'k:c', true],
    [`k:${escapeGlob('a*[b]?')}`, 'k:a*[b]?', true],
    [`k:${escapeGlob('a*')}`, 'k:abc', false],
    ['k.(x)+', 'k.(x)+', true],
  ])('%s matches %s: %s', (glob, key, expected) => {
    expect(globToRegExp(glob).test(key)).toBe(expected);
  });

  it('reads the literal prefix of a glob, escapes resolved', () => {
    expect(literalPrefix('stats:*:brand:1')).toBe('stats:');
    expect(literalPrefix('a\\*b?c')).toBe('a*b');
    expect(literalPrefix('plain')).toBe('plain');
  });
});
