/** Plans events against the shipped consumers/ rules, for key-mapping tests. */
import type { Family } from '../../src/core/families';
import { decodeEnvelope } from '../../src/envelope/decode';
import type { BatchContext } from '../../src/intake/batch-plan';
import type { KeyOp } from '../../src/rules/ops';
import { planEvent, type PlanOptions } from '../../src/rules/plan';
import { loadRules } from '../../src/rules/registry';
import type { FkEdge } from '../../src/row-index/fk-graph';
import { payload, type EnvelopeParts } from './envelopes';

export const shippedRules = loadRules();

/** products.brand_id → brands ON DELETE CASCADE: the FK edge of the row-index cascade tests. */
export const PRODUCTS_BRAND_CASCADE: FkEdge = {
  name: 'fk_products_brand',
  child: 'products',
  childColumns: ['brand_id'],
  parent: 'brands',
  parentColumns: ['brand_id'],
  onDelete: 'CASCADE',
  onUpdate: 'RESTRICT',
};

export const ZONES = { business: 'Asia/Seoul', database: 'Asia/Seoul' } as const;

export function planOptions(overrides: Partial<PlanOptions> = {}): PlanOptions {
  return {
    snapshotInvalidates: false,
    refreshFamilies: new Set<Family>(),
    zones: ZONES,
    ...overrides,
  };
}

/** A batch context of the shipped rules, on the `mis` topics of database `mis`. */
export function batchContext(extra: Partial<BatchContext> = {}): BatchContext {
  return { rules: shippedRules, topicPrefix: 'mis', database: 'mis', ...planOptions(), ...extra };
}

/** The operations the shipped rule of `table` plans for an event. */
export function opsFor(
  table: string,
  parts: Omit<EnvelopeParts, 'table'>,
  overrides: Partial<PlanOptions> = {},
): KeyOp[] {
  const rule = shippedRules.get(table);
  if (!rule) throw new Error(`no rule for ${table}`);
  return planEvent(decodeEnvelope(payload({ ...parts, table })), rule, planOptions(overrides));
}

/** The same as sorted text lines `family action key`. */
export function keysFor(
  table: string,
  parts: Omit<EnvelopeParts, 'table'>,
  overrides: Partial<PlanOptions> = {},
): string[] {
  return opsFor(table, parts, overrides).map(describe).sort();
}

export function describe(op: KeyOp): string {
  return `${op.family} ${op.action} ${op.key}`;
}
