/**
 * Validates a rule file's content and compiles its templates, once at start. Errors name the
 * file and the field (`consumers/brands.ts: targets[1].key: …`).
 */
import { FAMILIES, isFamily } from '../core/families';
import { SyncError } from '../core/errors';
import type { Op } from '../envelope/types';
import { hasGlob, parseTemplate, type Template } from './template';
import type { Action, ColumnType, DenyingState, KeyTarget, TableRule } from './types';

export interface CompiledLoader {
  /** The SQL with `?` in place of each placeholder. */
  readonly text: string;
  /** Column names bound to the `?`s, in order. */
  readonly params: readonly string[];
}

export interface CompiledTarget extends KeyTarget {
  readonly template: Template;
  readonly compiledLoader?: CompiledLoader;
  readonly compiledExistsOnlyIf?: CompiledLoader;
}

export interface CompiledRule extends TableRule {
  readonly file: string;
  readonly targets: readonly CompiledTarget[];
}

const ACTIONS: readonly Action[] = ['delete', 'pattern-delete', 'refresh'];
const OPS: readonly Op[] = ['c', 'u', 'd', 'r', 't'];
const COLUMN_TYPES: readonly ColumnType[] = ['date', 'datetime', 'datetime-micro'];
const TABLE_NAME = /^[A-Za-z0-9_$]+$/;
const TARGET_KEYS = new Set([
  'key',
  'family',
  'action',
  'loader',
  'existsOnlyIf',
  'when',
  'via',
  'why',
]);

type Fail = (field: string, message: string) => SyncError;

export function compileRule(value: unknown, file: string): CompiledRule {
  const fail: Fail = (field, message) =>
    new SyncError('RULE_INVALID', `${file}: ${field}: ${message}`, { details: { file, field } });
  if (!isObject(value)) throw fail('rule', 'must be an object { table, targets } (defineTable)');
  const { table, targets, columns } = value;
  if (typeof table !== 'string' || !TABLE_NAME.test(table)) {
    throw fail('table', 'must be a table name (letters, digits, _ or $)');
  }
  const columnTypes = compileColumns(columns, fail);
  if (!Array.isArray(targets) || targets.length === 0) {
    throw fail('targets', 'must be a non-empty list');
  }
  const compiled = targets.map((t: unknown, i) => compileTarget(t, `targets[${i}]`, fail));
  const denying = compileDenyingStates(value.denyingStates, fail);
  return Object.freeze({
    table,
    file,
    ...(columnTypes ? { columns: columnTypes } : {}),
    ...(denying ? { denyingStates: denying } : {}),
    targets: Object.freeze(compiled),
  });
}

function compileColumns(columns: unknown, fail: Fail): Record<string, ColumnType> | undefined {
  if (columns === undefined) return undefined;
  if (!isObject(columns))
    throw fail('columns', 'must map column names to date, datetime or datetime-micro');
  for (const [name, type] of Object.entries(columns)) {
    if (!COLUMN_TYPES.includes(type as ColumnType)) {
      throw fail(`columns.${name}`, `must be one of ${COLUMN_TYPES.join(', ')}`);
    }
  }
  return Object.freeze({ ...(columns as Record<string, ColumnType>) });
}

function compileDenyingStates(states: unknown, fail: Fail): readonly DenyingState[] | undefined {
  if (states === undefined) return undefined;
  const scalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
  if (!Array.isArray(states) || states.length === 0) {
    throw fail('denyingStates', 'must be a non-empty list of { column: value | [values] }');
  }
  return Object.freeze(
    states.map((s: unknown, i) => {
      const at = `denyingStates[${i}]`;
      if (!isObject(s) || Object.keys(s).length === 0) {
        throw fail(at, 'must map at least one column to a value or a list of values');
      }
      for (const [column, v] of Object.entries(s)) {
        const ok = Array.isArray(v) ? v.length > 0 && v.every(scalar) : scalar(v);
        if (!ok) throw fail(`${at}.${column}`, 'must be a value or a non-empty list of values');
      }
      return Object.freeze({ ...s }) as DenyingState;
    }),
  );
}

function compileTarget(t: unknown, at: string, fail: Fail): CompiledTarget {
  if (!isObject(t)) throw fail(at, 'must be an object { key, family, action }');
  const unknownKey = Object.keys(t).find((k) => !TARGET_KEYS.has(k));
  if (unknownKey)
    throw fail(`${at}.${unknownKey}`, `is not a target setting (${[...TARGET_KEYS].join(', ')})`);
  const { key, family, action, why, when, loader, existsOnlyIf, via } = t;
  if (typeof key !== 'string' || key.length === 0)
    throw fail(`${at}.key`, 'must be a non-empty string');
  if (!isFamily(family)) throw fail(`${at}.family`, `must be one of ${FAMILIES.join(', ')}`);
  if (typeof action !== 'string' || !ACTIONS.includes(action as Action)) {
    throw fail(`${at}.action`, `must be one of ${ACTIONS.join(', ')}`);
  }
  if (why !== undefined && typeof why !== 'string') throw fail(`${at}.why`, 'must be a string');
  let template: Template;
  try {
    template = parseTemplate(key);
  } catch (err) {
    throw fail(`${at}.key`, (err as Error).message);
  }
  const literal = template.segments.map((s) => ('text' in s ? s.text : '')).join('');
  if (action !== 'pattern-delete' && hasGlob(literal)) {
    throw fail(`${at}.key`, `has glob characters; only "pattern-delete" takes patterns`);
  }
  const target: Record<string, unknown> = { key, family, action, template };
  if (why !== undefined) target.why = why;
  if (when !== undefined) target.when = compileCondition(when, `${at}.when`, fail);
  if (action === 'refresh') {
    target.loader = loader;
    target.compiledLoader = compileLoader(loader, template, `${at}.loader`, fail);
  } else if (loader !== undefined) {
    throw fail(`${at}.loader`, 'only a "refresh" target has a loader');
  }
  if (via !== undefined) target.via = compileVia(via, action, `${at}.via`, fail);
  if (existsOnlyIf !== undefined) {
    target.existsOnlyIf = existsOnlyIf;
    target.compiledExistsOnlyIf = compileLoader(existsOnlyIf, template, `${at}.existsOnlyIf`, fail);
  }
  return Object.freeze(target) as unknown as CompiledTarget;
}

function compileVia(via: unknown, action: string, at: string, fail: Fail): KeyTarget['via'] {
  if (action !== 'delete') throw fail(at, 'only a "delete" target takes via');
  if (!isObject(via)) throw fail(at, 'must be an object { table, column, on }');
  for (const name of ['table', 'column', 'on'] as const) {
    if (typeof via[name] !== 'string' || !TABLE_NAME.test(via[name] as string)) {
      throw fail(`${at}.${name}`, 'must be a table or column name');
    }
  }
  const extra = Object.keys(via).find((k) => !['table', 'column', 'on'].includes(k));
  if (extra) throw fail(`${at}.${extra}`, 'is not a via setting (table, column, on)');
  return Object.freeze({
    table: via.table as string,
    column: via.column as string,
    on: via.on as string,
  });
}

function compileCondition(when: unknown, at: string, fail: Fail): KeyTarget['when'] {
  if (!isObject(when)) throw fail(at, 'must be an object { ops?, changed? }');
  const { ops, changed, ...rest } = when;
  const extra = Object.keys(rest)[0];
  if (extra) throw fail(`${at}.${extra}`, 'is not a condition (ops, changed)');
  if (ops !== undefined && (!Array.isArray(ops) || ops.some((o) => !OPS.includes(o as Op)))) {
    throw fail(`${at}.ops`, `must list operations among ${OPS.join(', ')}`);
  }
  if (
    changed !== undefined &&
    (!Array.isArray(changed) || changed.some((c) => typeof c !== 'string'))
  ) {
    throw fail(`${at}.changed`, 'must list column names');
  }
  return Object.freeze({
    ...(ops ? { ops: Object.freeze([...(ops as Op[])]) } : {}),
    ...(changed ? { changed: Object.freeze([...(changed as string[])]) } : {}),
  });
}

function compileLoader(loader: unknown, key: Template, at: string, fail: Fail): CompiledLoader {
  if (!isObject(loader) || typeof loader.sql !== 'string' || !/^\s*select\b/i.test(loader.sql)) {
    throw fail(`${at}.sql`, 'must be { sql: "SELECT …" }');
  }
  const params: string[] = [];
  const text = loader.sql.replace(/\{([^{}]*)\}/g, (_m, name: string) => {
    if (!key.fields.includes(name)) {
      throw fail(
        `${at}.sql`,
        `placeholder {${name}} must be a column of the key template ${key.source}`,
      );
    }
    params.push(name);
    return '?';
  });
  return Object.freeze({ text, params: Object.freeze(params) });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
