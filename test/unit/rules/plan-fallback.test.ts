/**
 * A column a rule uses renamed or dropped (or holding a value no key can be made of): the
 * targets that still resolve go as planned, the others fall back to the glob of every key their
 * template could give, and the batch dead-letters the event for the rule to be fixed, without a
 * stale key while it waits there.
 */
import { planBatch } from '../../../src/intake/batch-plan';
import { payload, record } from '../../support/envelopes';
import { batchContext, describe as line, keysFor } from '../../support/rules';

const order = (extra: Record<string, unknown>) => ({
  order_id: 1,
  brand_id: 7,
  amount: '10.00',
  ...extra,
});

describe('a ruled column missing from the row image', () => {
  it('plans the targets that resolve and falls back to patterns for the others', () => {
    // order_date renamed to ordered_on: the day and month keys cannot be computed
    const keys = keysFor('trade_orders', {
      op: 'u',
      before: order({ ordered_on: '2024-01-31' }),
      after: order({ ordered_on: '2024-02-01' }),
    });
    expect(keys).toEqual([
      'stats pattern-delete stats:*:brand:7',
      'stats pattern-delete stats:*:brand:7:*',
      'stats pattern-delete stats:daily_sales:*',
      'stats pattern-delete stats:monthly_revenue:*',
    ]);
  });

  it('keeps the columns it can read: only the missing one becomes *', () => {
    const keys = keysFor('serials', {
      op: 'c',
      after: { serial_id: 1, brand_code: 'B1[x]', made_on: '2024-01-31' },
    });
    // the brand code is filled in glob-escaped, the missing day is *
    expect(keys).toEqual(['stats pattern-delete stats:serial_count:B1\\[x\\]:*']);
  });

  it('a value no key can be made of (an object where a date is expected) falls back the same way', () => {
    const keys = keysFor('trade_orders', {
      op: 'c',
      after: order({ order_date: { nested: true } }),
    });
    expect(keys).toContain('stats pattern-delete stats:daily_sales:*');
    expect(keys).toContain('stats pattern-delete stats:*:brand:7');
  });

  it('the batch applies those operations and dead-letters the event (FIELD_INVALID) for the fix', () => {
    const value = payload({
      op: 'd',
      before: order({ ordered_on: '2024-01-31' }),
      table: 'trade_orders',
    });
    const plan = planBatch(
      [record(value, { topic: 'mis.mis.trade_orders', offset: '5' })],
      batchContext(),
    );
    expect(plan.ops.map(line).sort()).toEqual([
      'stats pattern-delete stats:*:brand:7',
      'stats pattern-delete stats:*:brand:7:*',
      'stats pattern-delete stats:daily_sales:*',
      'stats pattern-delete stats:monthly_revenue:*',
    ]);
    expect(plan.rejected.map((r) => [r.place.offset, r.error.code])).toEqual([
      ['5', 'FIELD_INVALID'],
    ]);
    expect(plan.rejected[0]?.error.message).toMatch(/column "order_date" .* is missing/);
  });
});
