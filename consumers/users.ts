import { defineTable } from '../src/rules/types';

/**
 * users → the user's session and permissions. Any change drops the session at once, so a user
 * disabled with use_yn = 'N' is logged out on the next request (a security property).
 */
const activeUser = { sql: "SELECT 1 FROM users WHERE user_id = {user_id} AND use_yn = 'Y'" };

export default defineTable({
  table: 'users',
  // A disabled user seen only by a (re-)snapshot still loses the session and permissions.
  denyingStates: [{ use_yn: 'N' }],
  targets: [
    {
      key: 'session:user:{user_id}',
      family: 'session',
      action: 'delete',
      existsOnlyIf: activeUser,
      why: 'session holds username, dept, use_yn',
    },
    {
      key: 'permissions:user:{user_id}',
      family: 'permissions',
      action: 'delete',
      existsOnlyIf: activeUser,
      why: 'permissions of a disabled user',
    },
  ],
});
