import { defineTable } from '../src/rules/types';

/** user_auth → the user's permission map and the session that embeds it. */
export default defineTable({
  table: 'user_auth',
  targets: [
    {
      key: 'permissions:user:{user_id}',
      db: 'cache',
      action: 'delete',
      why: 'menu permissions of the user',
    },
    {
      key: 'session:user:{user_id}',
      db: 'session',
      action: 'delete',
      why: 'session embeds permissions',
    },
  ],
});
