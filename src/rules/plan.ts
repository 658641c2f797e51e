/**
 * Change event + table rule → the Redis operations it calls for. Pure: no I/O, so it runs the
 * same in the service, in tests and in `explain`.
 */
import type { Family } from '../core/families';
import type { ChangeEvent, Row, SourceInfo } from '../envelope/types';
import type { CompiledRule, CompiledTarget } from './compile';
import type { TimeZones } from '../core/dates';
import type { KeyOp, Reason } from './ops';
import { isSyncError } from '../core/errors';
import { escapeGlob, renderFallback, renderTemplate } from './template';

export interface PlanOptions {
  /** Whether snapshot reads (op r) invalidate. */
  readonly snapshotInvalidates: boolean;
  /** Families whose `refresh` targets rebuild the key; elsewhere a refresh target deletes. */
  readonly refreshFamilies: ReadonlySet<Family>;
  readonly zones: TimeZones;
  /** Attach a reason to every operation (explain). */
  readonly explain?: boolean;
}

export function planEvent(event: ChangeEvent, rule: CompiledRule, options: PlanOptions): KeyOp[] {
  if (event.op === 'r' && !options.snapshotInvalidates && !inDenyingState(rule, event.after)) {
    return [];
  }
  // A handful of operations per event: an array searched in place beats a Map of joined ids.
  const ops: KeyOp[] = [];
  // Only refreshes carry the version: not computed for events whose targets all delete.
  let version: string | undefined;
  const versionOf = () => (version ??= sourceVersion(event.source, event.tsMs));
  const { before, after } = event;
  const targets = rule.targets;
  for (let index = 0; index < targets.length; index++) {
    const target = targets[index] as CompiledTarget;
    if (target.via && event.op !== 't') continue; // related rows: the resolve step (resolve.ts)
    if (!applies(target, event)) continue;
    if (event.op === 't') {
      addOp(ops, withReason(truncateOp(target), rule, index, 'none', null, options));
      continue;
    }
    const plan = { rule, target, index, versionOf, options };
    if (before) planImage(ops, plan, 'before', before);
    // An update that leaves the template's columns alone renders the same key again: skipped
    // (explain keeps it, for its reason names the after image).
    if (after && (!before || options.explain || !sameFields(target, before, after))) {
      planImage(ops, plan, 'after', after);
    }
  }
  return ops;
}

interface ImagePlan {
  readonly rule: CompiledRule;
  readonly target: CompiledTarget;
  readonly index: number;
  readonly versionOf: () => string;
  readonly options: PlanOptions;
}

/** One target's operation for one row image. */
function planImage(ops: KeyOp[], p: ImagePlan, name: 'before' | 'after', image: Row): void {
  const { target, options } = p;
  const render = p.rule.columns
    ? {
        escapeGlob: target.action === 'pattern-delete',
        zones: options.zones,
        columnTypes: p.rule.columns,
      }
    : { escapeGlob: target.action === 'pattern-delete', zones: options.zones };
  let op: KeyOp;
  try {
    const key = renderTemplate(target.template, image, render);
    if (key === null) return;
    op = toOp(target, key, image, p.versionOf, options);
  } catch (err) {
    // A column renamed or dropped under the rule: this target's keys, as a pattern (the
    // other targets still go exactly); never an event lost, nor a key left stale.
    if (!isSyncError(err) || err.code !== 'FIELD_INVALID') throw err;
    const glob = renderFallback(target.template, image, {
      ...render,
      literalIsGlob: target.action === 'pattern-delete',
    });
    if (glob === null) return;
    op = { family: target.family, action: 'pattern-delete', key: glob, fallback: err.message };
  }
  addOp(ops, withReason(op, p.rule, p.index, name, image, options));
}

/**
 * Whether both images give the same operation: the same values in every column of the template
 * (a refresh's query parameters are among them: compile.ts checks it).
 */
function sameFields(target: CompiledTarget, a: Row, b: Row): boolean {
  for (const f of target.template.fields) if (a[f] !== b[f]) return false;
  return true;
}

/** An event's operations: one per action and key, the later replacing the earlier in place. */
function addOp(ops: KeyOp[], op: KeyOp): void {
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i] as KeyOp;
    if (o.key === op.key && o.action === op.action) {
      ops[i] = op;
      return;
    }
  }
  ops.push(op);
}

/**
 * A truncate has no row images: every key of the target goes. A target declared as a pattern
 * stays a pattern (its literal `*` is a glob, e.g. menus' `permissions:user:*`); a target with
 * placeholders becomes a pattern with `*` in place of each placeholder and its literal text
 * glob-escaped; a literal key without placeholders stays a plain delete.
 */
export function truncateOp(target: CompiledTarget): KeyOp {
  const pattern = target.action === 'pattern-delete';
  if (!pattern && target.template.fields.length === 0) {
    return { family: target.family, action: 'delete', key: target.key };
  }
  let key = '';
  for (const seg of target.template.segments) {
    if ('field' in seg) key += '*';
    else key += pattern ? seg.text : escapeGlob(seg.text);
  }
  return { family: target.family, action: 'pattern-delete', key };
}

/**
 * Whether a row is in one of the rule's denying states (a disabled user, a revoked permission):
 * such a snapshot read invalidates even when snapshot reads otherwise do not.
 */
export function inDenyingState(rule: CompiledRule, row: Row | null): boolean {
  if (!row || !rule.denyingStates) return false;
  return rule.denyingStates.some((state) =>
    Object.entries(state).every(([column, want]) => {
      const have = row[column];
      return Array.isArray(want) ? want.some((w) => sameValue(w, have)) : sameValue(want, have);
    }),
  );
}

export function applies(target: CompiledTarget, event: ChangeEvent): boolean {
  const when = target.when;
  if (!when) return true;
  if (when.ops && !when.ops.includes(event.op)) return false;
  if (when.changed && event.op === 'u' && event.before && event.after) {
    const { before, after } = event;
    return when.changed.some((c) => !sameValue(before[c], after[c]));
  }
  return true;
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

export function toOp(
  target: CompiledTarget,
  key: string,
  image: Row,
  version: () => string,
  options: PlanOptions,
): KeyOp {
  const loader = target.compiledLoader;
  if (target.action === 'refresh' && loader && options.refreshFamilies.has(target.family)) {
    return {
      family: target.family,
      action: 'refresh',
      key,
      sql: loader.text,
      params: loader.params.map((p) => image[p]),
      version: version(),
    };
  }
  return {
    family: target.family,
    action: target.action === 'pattern-delete' ? 'pattern-delete' : 'delete',
    key,
  };
}

function withReason(
  op: KeyOp,
  rule: CompiledRule,
  index: number,
  image: Reason['image'],
  row: Row | null,
  options: PlanOptions,
): KeyOp {
  if (!options.explain) return op;
  const target = rule.targets[index] as CompiledTarget;
  const fields = Object.fromEntries(target.template.fields.map((f) => [f, row ? row[f] : '*']));
  const reason: Reason = {
    table: rule.table,
    file: rule.file,
    target: index,
    template: target.key,
    image,
    fields,
    ...(target.why ? { why: target.why } : {}),
  };
  return { ...op, reason };
}

/**
 * Orders changes, as a fixed-width string (Lua compares versions as strings):
 * - binlog coordinates when the connector gives them (MariaDB and MySQL connectors): the file's
 *   numeric suffix as a number (`…000009` < `…000010`, and `…999999` < `…1000000` when the
 *   suffix grows past its width), then the position, then the row within the event;
 * - else the GTID's sequence number (MySQL `uuid:N`, MariaDB `domain-server-N`);
 * - else the commit time.
 * GTIDs are not used when coordinates exist: a MySQL GTID's number restarts with each server
 * uuid, so it orders nothing across a failover that the coordinates would not. Prefix `p:`
 * sorts after the older `b:<file>:<pos>` format, so version keys written before it never block
 * a newer refresh.
 */
export function sourceVersion(source: SourceInfo, tsMs?: number): string {
  if (source.file !== undefined && source.pos !== undefined) {
    return `p:${fileOrder(source.file)}:${pad(source.pos, 20)}:${pad(source.row ?? 0, 10)}`;
  }
  const gtidSeq = source.gtid === undefined ? undefined : /[-:](\d+)$/.exec(source.gtid)?.[1];
  if (gtidSeq !== undefined) {
    return `g:${BigInt(gtidSeq).toString().padStart(20, '0')}:${pad(source.row ?? 0, 10)}`;
  }
  return `t:${pad(source.tsMs ?? tsMs ?? 0, 16)}`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** The binlog file as it sorts; the last one remembered (a batch's events share their file). */
let lastFile: readonly [string, string] = ['', ''];
function fileOrder(file: string): string {
  if (lastFile[0] === file) return lastFile[1];
  const suffix = /(\d+)$/.exec(file)?.[1];
  const order = suffix === undefined ? file : BigInt(suffix).toString().padStart(20, '0');
  lastFile = [file, order];
  return order;
}
