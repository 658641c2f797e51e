/**
 * Validates a rule module's export and compiles its templates, once at start. Errors name the
 * file and the field (`consumers/brands.ts: targets[1].key: …`).
 */
import { SyncError } from '../errors';
import type { DbRole } from '../config/config';
import { hasGlob, parseTemplate, type Template } from './template';
import type { Action, KeyTarget, LoadedRule } from './types';

export interface CompiledTarget extends KeyTarget {
  readonly template: Template;
}

export interface CompiledRule extends LoadedRule {
  readonly targets: readonly CompiledTarget[];
}

const ROLES: readonly DbRole[] = ['session', 'cache', 'temp'];
const ACTIONS: readonly Action[] = ['delete', 'pattern-delete'];
const TABLE_NAME = /^[A-Za-z0-9_$]+$/;

export function compileRule(value: unknown, file: string): CompiledRule {
  const fail = (field: string, message: string) =>
    new SyncError('RULE_INVALID', `${file}: ${field}: ${message}`, { details: { file, field } });
  if (!isObject(value)) throw fail('default export', 'must be defineTable({ table, targets })');
  const { table, targets } = value;
  if (typeof table !== 'string' || !TABLE_NAME.test(table)) {
    throw fail('table', 'must be a table name (letters, digits, _ or $)');
  }
  if (!Array.isArray(targets) || targets.length === 0) {
    throw fail('targets', 'must be a non-empty list');
  }
  const compiled = targets.map((t: unknown, i): CompiledTarget => {
    const at = `targets[${i}]`;
    if (!isObject(t)) throw fail(at, 'must be an object { key, db, action }');
    const { key, db, action, why } = t;
    if (typeof key !== 'string' || key.length === 0)
      throw fail(`${at}.key`, 'must be a non-empty string');
    if (typeof db !== 'string' || !ROLES.includes(db as DbRole)) {
      throw fail(`${at}.db`, `must be one of ${ROLES.join(', ')}`);
    }
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
    if (action === 'delete' && hasGlob(literal)) {
      throw fail(`${at}.key`, 'has glob characters; use action "pattern-delete" for patterns');
    }
    const target: CompiledTarget = {
      key,
      db: db as DbRole,
      action: action as Action,
      template,
      ...(why === undefined ? {} : { why: why as string }),
    };
    return Object.freeze(target);
  });
  return Object.freeze({ table, file, targets: Object.freeze(compiled) });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
