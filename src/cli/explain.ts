/**
 * `mis-cache-sync explain <event.json | ->`: which keys, in which logical DB, a change event
 * would touch and why, computed offline by the same decoder and rules as the service.
 * Input: a Debezium value (with or without the JSON schema wrapper), a record
 * `{ topic?, key?, value }`, or an array of either.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../config/config';
import { decodeEnvelope, parseJson } from '../envelope/decode';
import { SyncError, errorMessage } from '../errors';
import { tableOfTopic } from '../intake/topics';
import type { KeyOp } from '../rules/ops';
import { planEvent } from '../rules/plan';
import type { RuleSet } from '../rules/registry';

export function readEventInput(source: string): unknown[] {
  const text = source === '-' ? readFileSync(0, 'utf8') : readFileSync(source, 'utf8');
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

export function explainEvents(inputs: readonly unknown[], rules: RuleSet, config: Config): string {
  return explainReport(inputs, rules, config).text;
}

/** The explanation and how many inputs were rejected (the CLI exits 1 when any was). */
export function explainReport(
  inputs: readonly unknown[],
  rules: RuleSet,
  config: Config,
): { text: string; rejected: number } {
  const out: string[] = [];
  let rejected = 0;
  inputs.forEach((input, i) => {
    const label = inputs.length > 1 ? `event ${i + 1}: ` : '';
    const record = isRecord(input) ? input : { value: input };
    if (record.value === null || record.value === undefined) {
      out.push(`${label}tombstone (null value): ignored, touches nothing`);
      return;
    }
    let event;
    try {
      event = decodeEnvelope(record.value);
    } catch (err) {
      out.push(`${label}rejected (${(err as SyncError).code ?? 'ERROR'}): ${errorMessage(err)}`);
      rejected += 1;
      return;
    }
    const fromTopic =
      typeof record.topic === 'string'
        ? tableOfTopic(record.topic, config.kafka.topicPrefix, config.kafka.database)
        : undefined;
    const table = event.source.table ?? fromTopic;
    const rule = table === undefined ? undefined : rules.get(table);
    if (!rule) {
      out.push(
        `${label}rejected (UNKNOWN_TABLE): no rule for table ${JSON.stringify(table ?? null)}`,
      );
      rejected += 1;
      return;
    }
    let ops: KeyOp[];
    try {
      ops = planEvent(event, rule, {
        snapshotInvalidates: config.rules.snapshotInvalidates,
        refreshFamilies: new Set(config.rules.refreshFamilies),
        zones: { business: config.time.zone, database: config.time.databaseZone },
        explain: true,
      });
    } catch (err) {
      out.push(`${label}rejected (${(err as SyncError).code ?? 'ERROR'}): ${errorMessage(err)}`);
      rejected += 1;
      return;
    }
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
      if (op.action === 'refresh')
        out.push(`      rebuilt by: ${op.sql}  params ${show(op.params)}`);
    }
  });
  return { text: `${out.join('\n')}\n`, rejected };
}

function isRecord(v: unknown): v is { topic?: unknown; key?: unknown; value?: unknown } {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    'value' in v &&
    !('op' in v) &&
    !('payload' in v)
  );
}

function show(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)) ?? 'undefined';
}
