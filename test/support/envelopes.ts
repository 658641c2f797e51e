/** Builders of Debezium change-event values for unit tests (no services). */
import type { RawRecord } from '../../src/envelope/types';

export type Image = Record<string, unknown> | null;

export interface EnvelopeParts {
  op: string;
  before?: Image;
  after?: Image;
  table?: string;
  snapshot?: string;
}

/** A bare payload, as with `value.converter.schemas.enable=false`. */
export function payload(p: EnvelopeParts): Record<string, unknown> {
  return {
    before: p.before ?? null,
    after: p.after ?? null,
    source: {
      version: '3.x',
      connector: 'mariadb',
      name: 'mis',
      ts_ms: 1_700_000_000_000,
      snapshot: p.snapshot ?? 'false',
      db: 'mis',
      table: p.table,
      server_id: 1,
      file: 'mysql-bin.000001',
      pos: 1234,
      row: 0,
    },
    op: p.op,
    ts_ms: 1_700_000_000_100,
  };
}

export function record(
  value: unknown,
  opts: { topic?: string; partition?: number; offset?: string } = {},
): RawRecord {
  return {
    topic: opts.topic ?? 'mis.mis.brands',
    partition: opts.partition ?? 0,
    offset: opts.offset ?? '0',
    key: null,
    value:
      value === null
        ? null
        : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  };
}
