import { defineTable } from '../src/rules/types';
import { brandScopedStats } from './shared/brand-stats';

/** trade_orders → the day's and month's sales statistics and the order brand's statistics. */
export default defineTable({
  table: 'trade_orders',
  columns: { order_date: 'date' },
  targets: [
    {
      key: 'stats:daily_sales:{order_date|yyyymmdd}',
      family: 'stats',
      action: 'delete',
      why: 'daily sales of the order day',
    },
    {
      key: 'stats:monthly_revenue:{order_date|yyyymm}',
      family: 'stats',
      action: 'delete',
      why: 'revenue of the order month',
    },
    ...brandScopedStats('brand_id'),
  ],
});
