import { defineTable } from '../src/rules/types';

/** user_auth → the user's permission map and the session that embeds it. */
export default defineTable({
  table: 'user_auth',
  targets: [
    {
      key: 'permissions:user:{user_id}',
      family: 'permissions',
      action: 'delete',
      why: 'menu permissions of the user',
    },
    {
      key: 'session:user:{user_id}',
      family: 'session',
      action: 'delete',
      why: 'the session embeds permissions',
    },
  ],
});
