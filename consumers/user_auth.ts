import { defineTable } from '../src/rules/types';

/** user_auth → the user's permission map and the session that embeds it. */
export default defineTable({
  table: 'user_auth',
  // A disabled (use_yn 'N') or revoked (no read right) permission row seen only by a
  // (re-)snapshot still drops the user's permission map and session.
  denyingStates: [{ use_yn: 'N' }, { read_yn: 'N' }],
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
