import { compileRule } from '../../../src/rules/compile';
import { truncateOp } from '../../../src/rules/plan';
import { keysFor } from '../../support/rules';

describe('truncate (op t)', () => {
  it('keeps a target declared as a pattern a pattern (menus: every permission map and session)', () => {
    // menus' holders targets (via user_auth) name every user's map and session on a truncate
    expect(keysFor('menus', { op: 't' })).toEqual([
      'permissions pattern-delete permissions:menu:*',
      'permissions pattern-delete permissions:user:*',
      'session pattern-delete session:user:*',
    ]);
  });

  it('turns placeholders into * with the literal text glob-escaped; a literal key stays a delete', () => {
    const rule = compileRule(
      {
        table: 'x',
        targets: [
          { key: 'temp:a\\b:{id}', family: 'temp', action: 'delete' },
          { key: 'master:list', family: 'master', action: 'refresh', loader: { sql: 'SELECT 1' } },
          { key: 'stats:*:x', family: 'stats', action: 'pattern-delete' },
        ],
      },
      'x.ts',
    );
    expect(rule.targets.map((t) => truncateOp(t))).toEqual([
      { family: 'temp', action: 'pattern-delete', key: 'temp:a\\\\b:*' },
      { family: 'master', action: 'delete', key: 'master:list' },
      { family: 'stats', action: 'pattern-delete', key: 'stats:*:x' },
    ]);
  });

  it('every shipped table plans only keys of its families', () => {
    expect(keysFor('users', { op: 't' })).toEqual([
      'permissions pattern-delete permissions:user:*',
      'session pattern-delete session:user:*',
    ]);
    expect(keysFor('serials', { op: 't' })).toEqual([
      'stats pattern-delete stats:serial_count:*:*',
    ]);
  });
});
