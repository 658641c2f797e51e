import { keysFor } from '../../support/rules';

const auth = (userId: number | null, menuId = 1) => ({
  auth_id: 5,
  user_id: userId,
  menu_id: menuId,
  create_yn: 'Y',
  read_yn: 'Y',
  update_yn: 'N',
  delete_yn: 'N',
  use_yn: 'Y',
});
const userKeys = (id: number) => [
  `permissions delete permissions:user:${id}`,
  `session delete session:user:${id}`,
];

describe('consumers/user_auth', () => {
  it('a permission change drops the user permissions and session', () => {
    expect(
      keysFor('user_auth', { op: 'u', before: auth(7), after: { ...auth(7), read_yn: 'N' } }),
    ).toEqual(userKeys(7));
  });

  it('a grant moved to another user dirties both users', () => {
    expect(keysFor('user_auth', { op: 'u', before: auth(7), after: auth(8) })).toEqual(
      [...userKeys(7), ...userKeys(8)].sort(),
    );
  });

  it('creates and deletes invalidate', () => {
    expect(keysFor('user_auth', { op: 'c', after: auth(3) })).toEqual(userKeys(3));
    expect(keysFor('user_auth', { op: 'd', before: auth(3) })).toEqual(userKeys(3));
  });

  it('a NULL user id has no keys', () => {
    expect(keysFor('user_auth', { op: 'u', before: auth(null), after: auth(4) })).toEqual(
      userKeys(4),
    );
  });

  it('truncate drops every user permission and session', () => {
    expect(keysFor('user_auth', { op: 't' })).toEqual([
      'permissions pattern-delete permissions:user:*',
      'session pattern-delete session:user:*',
    ]);
  });
});
