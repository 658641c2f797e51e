import { defineTable } from '../src/rules/types';

/**
 * menus → the menu's permission entry, and the permission map and session of exactly the users
 * holding the menu (their user_auth rows on its menu_id: menu codes are embedded in both). Found
 * through the row index of user_auth, else MySQL; users without the menu keep their session.
 */
const holders = { table: 'user_auth', column: 'menu_id', on: 'menu_id' };

export default defineTable({
  table: 'menus',
  targets: [
    {
      key: 'permissions:menu:{code}',
      family: 'permissions',
      action: 'delete',
      why: 'permissions by menu code',
    },
    {
      key: 'permissions:user:{user_id}',
      family: 'permissions',
      action: 'delete',
      via: holders,
      why: 'permission maps of the users holding the menu (codes are embedded)',
    },
    {
      key: 'session:user:{user_id}',
      family: 'session',
      action: 'delete',
      via: holders,
      why: 'their sessions embed the permission map',
    },
  ],
});
