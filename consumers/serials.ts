import { defineTable } from '../src/rules/types';

/** serials → the count of serials generated per brand code and day. */
export default defineTable({
  table: 'serials',
  columns: { created_date: 'date' },
  targets: [
    {
      key: 'stats:serial_count:{brand_code}:{created_date|yyyymmdd}',
      family: 'stats',
      action: 'delete',
      why: 'serials generated that day',
    },
  ],
});
