import { defineTable } from '../src/rules/types';
import { brandScopedStats } from './shared/brand-stats';

/** brands → the brand list (rebuilt when master refresh is on) and every brand-scoped statistic. */
export default defineTable({
  table: 'brands',
  targets: [
    {
      key: 'master:brands',
      family: 'master',
      action: 'refresh',
      loader: {
        sql: "SELECT brand_id AS id, brand_name AS name, brand_code AS code FROM brands WHERE use_yn = 'Y' ORDER BY sort, brand_id",
      },
      why: 'list of active brands',
    },
    ...brandScopedStats('brand_id'),
  ],
});
