import { defineTable } from '../src/rules/types';

/**
 * users → the user's session and permissions. Any change drops the session at once, so a user
 * disabled with use_yn = 'N' is logged out on the next request (a security property).
 */
export default defineTable({
  table: 'users',
  targets: [
    {
      key: 'session:user:{user_id}',
      family: 'session',
      action: 'delete',
      why: 'session holds username, dept, use_yn',
    },
    {
      key: 'permissions:user:{user_id}',
      family: 'permissions',
      action: 'delete',
      why: 'permissions of a disabled user',
    },
  ],
});
