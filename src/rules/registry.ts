/**
 * Finds the table rules: every module (.ts/.js, default export) or YAML file (.yaml/.yml) in the
 * consumers folder is one table. Adding a table is adding a file there; nothing in src/ names a
 * table.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { SyncError } from '../core/errors';
import { compileRule, type CompiledRule } from './compile';

/** The consumers folder next to src/ (works from the sources and from dist/). */
export const DEFAULT_CONSUMERS_DIR = path.resolve(__dirname, '..', '..', 'consumers');

export interface RuleSet {
  readonly dir: string;
  readonly tables: readonly string[];
  get(table: string): CompiledRule | undefined;
}

export function loadRules(dir: string = DEFAULT_CONSUMERS_DIR): RuleSet {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (err) {
    throw new SyncError(
      'RULE_INVALID',
      `consumers folder ${dir} cannot be read: ${(err as Error).message}`,
    );
  }
  const files = entries
    .filter((f) => /\.(js|ts|ya?ml)$/.test(f) && !f.endsWith('.d.ts') && !f.includes('.test.'))
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile())
    .sort();
  const byTable = new Map<string, CompiledRule>();
  for (const file of files) {
    const rule = compileRule(readRuleFile(file), path.relative(process.cwd(), file) || file);
    const clash = byTable.get(rule.table);
    if (clash) {
      throw new SyncError(
        'RULE_INVALID',
        `${rule.file}: table: "${rule.table}" is already ruled by ${clash.file}`,
      );
    }
    byTable.set(rule.table, rule);
  }
  if (byTable.size === 0) {
    throw new SyncError('RULE_INVALID', `consumers folder ${dir} has no table rules`);
  }
  return fromRules([...byTable.values()], dir);
}

export function fromRules(rules: readonly CompiledRule[], dir = '<memory>'): RuleSet {
  const byTable = new Map(rules.map((r) => [r.table, r]));
  return Object.freeze({
    dir,
    tables: Object.freeze([...byTable.keys()].sort()),
    get: (table: string) => byTable.get(table),
  });
}

function readRuleFile(file: string): unknown {
  if (/\.ya?ml$/.test(file)) {
    try {
      return parseYaml(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new SyncError('RULE_INVALID', `${file}: is not valid YAML: ${(err as Error).message}`);
    }
  }
  let mod: unknown;
  try {
    // Rule modules are loaded by path at start; require keeps this synchronous and works for
    // compiled .js and for .ts under ts-jest.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(file);
  } catch (err) {
    throw new SyncError('RULE_INVALID', `${file}: cannot be loaded: ${(err as Error).message}`);
  }
  return typeof mod === 'object' && mod !== null && 'default' in mod ? mod.default : mod;
}
