import { defineTable } from '../src/rules/types';

/** brands → the brand list and every statistic scoped to that brand. */
export default defineTable({
  table: 'brands',
  targets: [
    { key: 'master:brands', db: 'cache', action: 'delete', why: 'list of active brands' },
    {
      key: 'stats:*:brand:{brand_id}',
      db: 'cache',
      action: 'pattern-delete',
      why: 'brand-scoped statistics',
    },
    {
      key: 'stats:*:brand:{brand_id}:*',
      db: 'cache',
      action: 'pattern-delete',
      why: 'brand-scoped statistics with sub keys',
    },
  ],
});
