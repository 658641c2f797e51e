/**
 * An event over MCS_MAX_MESSAGE_BYTES is not parsed, so its row is unknown: the keys it dirtied
 * must still go, as every family of its table's rule (the row index's fallback), while the
 * event itself is dead-lettered with its place.
 */
import { planBatch } from '../../../src/intake/batch-plan';
import { payload, record } from '../../support/envelopes';
import { describe as describeOp, planOptions, shippedRules } from '../../support/rules';

const ctx = {
  rules: shippedRules,
  topicPrefix: 'mis',
  database: 'mis',
  maxMessageBytes: 200,
  ...planOptions(),
};
const big = (table: string, offset: string) =>
  record(
    payload({
      op: 'u',
      before: { auth_id: 1, user_id: 7, menu_id: 3, use_yn: 'Y', memo: 'x'.repeat(300) },
      after: { auth_id: 1, user_id: 7, menu_id: 3, use_yn: 'N', memo: 'x'.repeat(300) },
      table,
    }),
    { topic: `mis.mis.${table}`, partition: 1, offset },
  );

describe('oversized events', () => {
  it("fall back to their table's key families as patterns, and are still dead-lettered", () => {
    const plan = planBatch([big('user_auth', '40')], ctx);
    expect(plan.rejected.map((r) => [r.place.partition, r.place.offset, r.error.code])).toEqual([
      [1, '40', 'MESSAGE_TOO_LARGE'],
    ]);
    expect(plan.ops.map(describeOp).sort()).toEqual([
      'permissions pattern-delete permissions:user:*',
      'session pattern-delete session:user:*',
    ]);
  });

  it('of a table without a rule plan nothing (rejected as before)', () => {
    const plan = planBatch([big('nope', '41')], ctx);
    expect(plan.rejected.map((r) => r.error.code)).toEqual(['MESSAGE_TOO_LARGE']);
    expect(plan.ops).toEqual([]);
  });
});
