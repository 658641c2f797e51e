/**
 * `mis-cache-sync explain <file | -> [--registry URL]`: which keys, in which logical DB, change
 * events would touch and why, computed offline by the same per-record decoding and rules as the
 * service. Input, whatever the service accepts:
 * - the bytes of one Kafka value: registry-framed Avro (first byte 0; schemas from --registry or
 *   SCHEMA_REGISTRY_URL), or JSON;
 * - JSON: a Debezium value (`{schema, payload}`, `{payload}`, or the bare envelope), a record
 *   `{ topic?, value }` or `{ topic?, valueBase64 }` (the value's bytes, e.g. Avro), or an array
 *   of these.
 * A rejected input says why; the command then exits non-zero.
 */
import { readFileSync } from 'node:fs';
import JSONbig from 'json-bigint';
import type { Config } from '../config/config';
import type { SchemaSource } from '../envelope/avro';
import { parseJson } from '../envelope/decode';
import { decodeAnyRecord } from '../envelope/detect';
import type { ChangeEvent, RawRecord } from '../envelope/types';
import { SyncError, errorMessage } from '../core/errors';
import { routeEvent, routingContext } from '../intake/batch-plan';
import type { CompiledRule } from '../rules/compile';
import { SchemaRegistry } from '../registry/client';
import type { KeyOp } from '../rules/ops';
import { planEvent } from '../rules/plan';
import type { RuleSet } from '../rules/registry';

const bigJson = JSONbig({ useNativeBigInt: true });

export interface ExplainResult {
  readonly text: string;
  /** Inputs that were rejected (not tombstones, not snapshots skipped by configuration). */
  readonly rejected: number;
}

export function readEventInput(source: string): unknown[] {
  const text = source === '-' ? readFileSync(0, 'utf8') : readFileSync(source, 'utf8');
  return parseInput(text, source);
}

function parseInput(text: string, source: string): unknown[] {
  let json: unknown;
  try {
    json = parseJson(text);
  } catch (err) {
    throw new SyncError(
      'ENVELOPE_MALFORMED',
      `${source === '-' ? 'stdin' : source}: not JSON (${errorMessage(err)})`,
    );
  }
  return Array.isArray(json) ? json : [json];
}

/** The records of a file (or stdin): one raw Avro value, or the JSON forms above. */
export function readExplainRecords(source: string): RawRecord[] {
  const bytes = source === '-' ? readFileSync(0) : readFileSync(source);
  if (bytes.length > 0 && bytes[0] === 0) return [rawRecord(undefined, bytes)];
  return parseInput(bytes.toString('utf8'), source).map(toRecord);
}

/** Reads, fetches the Avro writer schemas the input needs, and explains. */
export async function explainSource(
  source: string,
  rules: RuleSet,
  config: Config,
  registryUrl?: string,
): Promise<ExplainResult> {
  const records = readExplainRecords(source);
  const url = registryUrl ?? config.registry.url;
  const schemas = url ? new SchemaRegistry({ ...config.registry, url }) : undefined;
  return explainRecords(records, rules, config, schemas);
}

export async function explainRecords(
  records: readonly RawRecord[],
  rules: RuleSet,
  config: Config,
  schemas?: SchemaSource,
): Promise<ExplainResult> {
  let registryError: SyncError | undefined;
  try {
    await schemas?.prepare(records);
  } catch (err) {
    registryError =
      err instanceof SyncError ? err : new SyncError('REGISTRY_UNAVAILABLE', errorMessage(err));
  }
  return render({ records, rules, config, schemas, registryError });
}

/** JSON inputs (already parsed), explained synchronously: no registry. */
export function explainEvents(inputs: readonly unknown[], rules: RuleSet, config: Config): string {
  return render({
    records: inputs.map(toRecord),
    rules,
    config,
    schemas: undefined,
    registryError: undefined,
  }).text;
}

/** What `render` explains, and with what. */
interface RenderArgs {
  readonly records: readonly RawRecord[];
  readonly rules: RuleSet;
  readonly config: Config;
  /** Avro writer schemas, prepared for `records`; undefined: no registry. */
  readonly schemas: SchemaSource | undefined;
  /** Why preparing the schemas failed: shown in place of a record's REGISTRY_UNAVAILABLE. */
  readonly registryError: SyncError | undefined;
}

function render({ records, rules, config, schemas, registryError }: RenderArgs): ExplainResult {
  const out: string[] = [];
  let rejected = 0;
  const reject = (label: string, err: unknown) => {
    rejected += 1;
    const e = err as SyncError;
    const shown =
      e.code === 'REGISTRY_UNAVAILABLE' && registryError !== undefined ? registryError : e;
    out.push(`${label}rejected (${shown.code ?? 'ERROR'}): ${errorMessage(shown)}`);
  };
  records.forEach((record, i) => {
    const label = records.length > 1 ? `event ${i + 1}: ` : '';
    let event: ChangeEvent;
    try {
      const decoded = decodeAnyRecord(record, schemas);
      if (decoded.kind === 'tombstone') {
        out.push(`${label}tombstone (null value): ignored, touches nothing`);
        return;
      }
      event = decoded.event;
    } catch (err) {
      reject(label, err);
      return;
    }
    const ctx = routingContext(config, rules);
    let rule: CompiledRule;
    let ops: KeyOp[];
    try {
      const route = routeEvent(event, record.topic, ctx);
      if (route.kind === 'foreign') {
        out.push(
          `${label}${route.table ?? '?'}: skipped, database ${JSON.stringify(route.db)} is not watched (MCS_DATABASES: ${config.rules.databases.join(', ')}); touches nothing`,
        );
        return;
      }
      rule = route.rule;
      ops = planEvent(event, rule, { ...ctx, explain: true });
    } catch (err) {
      reject(label, err);
      return;
    }
    const table = rule.table;
    out.push(`${label}${table} op=${event.op}: ${ops.length} operation(s)  [rule ${rule.file}]`);
    if (ops.length === 0 && event.op === 'r')
      out.push('  snapshot read: no invalidation (MCS_SNAPSHOT_INVALIDATES=false)');
    for (const op of ops) {
      const r = op.reason;
      const fields = r
        ? Object.entries(r.fields)
            .map(([k, v]) => `${k}=${show(v)}`)
            .join(', ')
        : '';
      out.push(`  DB ${config.redis.db[op.family]}  ${op.action.padEnd(14)} ${op.key}`);
      if (r) {
        out.push(
          `      family ${op.family}; targets[${r.target}] ${r.template}; ${r.image} image${fields ? `: ${fields}` : ''}${r.why ? `; ${r.why}` : ''}`,
        );
      }
      if (op.fallback !== undefined)
        out.push(`      fallback: ${op.fallback}; the service dead-letters the event too`);
      if (op.action === 'refresh')
        out.push(`      rebuilt by: ${op.sql}  params ${show(op.params)}`);
    }
  });
  return { text: `${out.join('\n')}\n`, rejected };
}

/** One parsed JSON input → the Kafka record the service would have read. */
function toRecord(input: unknown): RawRecord {
  if (!isRecord(input)) return rawRecord(undefined, Buffer.from(bigJson.stringify(input)));
  const topic = typeof input.topic === 'string' ? input.topic : undefined;
  if (typeof input.valueBase64 === 'string')
    return rawRecord(topic, Buffer.from(input.valueBase64, 'base64'));
  if (input.value === null || input.value === undefined) return rawRecord(topic, null);
  return rawRecord(topic, Buffer.from(bigJson.stringify(input.value)));
}

function rawRecord(topic: string | undefined, value: Buffer | null): RawRecord {
  return { topic: topic ?? '', partition: 0, offset: '0', key: null, value };
}

function isRecord(
  v: unknown,
): v is { topic?: unknown; key?: unknown; value?: unknown; valueBase64?: unknown } {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    ('value' in v || 'valueBase64' in v) &&
    !('op' in v) &&
    !('payload' in v)
  );
}

function show(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)) ?? 'undefined';
}
