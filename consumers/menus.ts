import { defineTable } from '../src/rules/types';

/** menus → the menu's permission entry and every user's permission map (menu codes are embedded). */
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
      key: 'permissions:user:*',
      family: 'permissions',
      action: 'pattern-delete',
      why: 'user permission maps are keyed by menu code',
    },
  ],
});
