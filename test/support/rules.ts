/** Plans events against the shipped consumers/ rules, for key-mapping tests. */
import { decodeEnvelope } from '../../src/envelope/decode';
import { planEvent } from '../../src/rules/plan';
import { loadRules } from '../../src/rules/registry';
import type { KeyOp } from '../../src/rules/types';
import { payload, type EnvelopeParts } from './envelopes';

export const shippedRules = loadRules();

export function keysFor(
  table: string,
  parts: Omit<EnvelopeParts, 'table'>,
  snapshotInvalidates = false,
): string[] {
  const rule = shippedRules.get(table);
  if (!rule) throw new Error(`no rule for ${table}`);
  const ops = planEvent(decodeEnvelope(payload({ ...parts, table })), rule, {
    snapshotInvalidates,
  });
  return ops.map(describe).sort();
}

export function describe(op: KeyOp): string {
  return `${op.db} ${op.action} ${op.key}`;
}
