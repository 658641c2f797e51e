import { planBatch } from '../../../src/intake/batch-plan';
import { payload, record } from '../../support/envelopes';
import { describe as describeOp, planOptions, shippedRules } from '../../support/rules';

const ctx = { rules: shippedRules, topicPrefix: 'mis', database: 'mis', ...planOptions() };
const auth = (userId: number, menuId: number) => ({
  auth_id: menuId,
  user_id: userId,
  menu_id: menuId,
  use_yn: 'Y',
});
const topic = 'mis.mis.user_auth';

describe('planBatch', () => {
  it('de-duplicates the keys of a whole batch', () => {
    const records = Array.from({ length: 1000 }, (_, i) =>
      record(payload({ op: 'u', before: auth(42, i), after: auth(42, i), table: 'user_auth' }), {
        topic,
        offset: String(i),
      }),
    );
    const plan = planBatch(records, ctx);
    expect(plan.ops.map(describeOp).sort()).toEqual([
      'permissions delete permissions:user:42',
      'session delete session:user:42',
    ]);
    expect(plan.handled).toHaveLength(1000);
    expect(plan.rejected).toEqual([]);
  });

  it('counts tombstones and rejects poison messages with their place', () => {
    const plan = planBatch(
      [
        record(payload({ op: 'd', before: auth(1, 1), table: 'user_auth' }), {
          topic,
          offset: '10',
        }),
        record(null, { topic, offset: '11' }),
        record('not json', { topic, partition: 2, offset: '12' }),
        record(payload({ op: 'u', after: { x: 1 }, table: 'user_auth' }), { topic, offset: '13' }),
        record(payload({ op: 'c', after: { id: 1 }, table: 'nope' }), { topic, offset: '14' }),
      ],
      ctx,
    );
    expect(plan.tombstones).toBe(1);
    expect(plan.handled.map((h) => h.place.offset)).toEqual(['10']);
    expect(
      plan.rejected.map((r) => [r.place.partition, r.place.offset, r.error.code, r.table]),
    ).toEqual([
      [2, '12', 'ENVELOPE_MALFORMED', 'user_auth'],
      [0, '13', 'FIELD_INVALID', 'user_auth'],
      [0, '14', 'UNKNOWN_TABLE', 'nope'],
    ]);
  });

  it('takes the table from the topic when the event has no source table', () => {
    const p = payload({ op: 'c', after: auth(5, 1) });
    delete (p.source as Record<string, unknown>).table;
    const plan = planBatch([record(p, { topic })], ctx);
    expect(plan.handled[0]?.table).toBe('user_auth');
    expect(plan.ops).toHaveLength(2);
  });
});
