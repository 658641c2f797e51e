/** Debezium's per-event transaction metadata, in every input form (envelope, Avro, flattened). */
import { SyncError } from '../core/errors';
import type { TransactionRef } from './types';

/** The `transaction` block; absent or null (no metadata, snapshot reads): undefined. */
export function transactionRef(t: unknown): TransactionRef | undefined {
  if (t === undefined || t === null) return undefined;
  if (!isObject(t)) throw malformedBlock(t);
  const id = t.id;
  const total = wholeNumber(t.total_order);
  if (typeof id !== 'string' || id === '' || total === undefined) {
    throw malformedBlock(t);
  }
  const dco = wholeNumber(t.data_collection_order);
  return { id, totalOrder: total, ...(dco === undefined ? {} : { dataCollectionOrder: dco }) };
}

/** A count as JSON (number), Avro-as-JSON (number or digit string) or a BigInt. */
function wholeNumber(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && /^\d{1,15}$/.test(v)) return Number(v);
  return undefined;
}

/**
 * The flattened form: `add.fields=transaction.id,transaction.total_order,…` of the unwrap SMT
 * (`__transaction_id`, `__transaction_total_order`, `__transaction_data_collection_order`).
 */
export function flattenedTransactionRef(p: Record<string, unknown>): TransactionRef | undefined {
  if (p.__transaction_id === undefined || p.__transaction_id === null) return undefined;
  return transactionRef({
    id: p.__transaction_id,
    total_order: p.__transaction_total_order,
    data_collection_order: p.__transaction_data_collection_order,
  });
}

function malformedBlock(t: unknown): SyncError {
  return new SyncError(
    'ENVELOPE_MALFORMED',
    `transaction block without id and total_order: ${String(JSON.stringify(t)).slice(0, 80)}`,
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
