/**
 * The sources of the raw values. Precedence: process environment (or `<NAME>_FILE` for a secret),
 * then the YAML file named by MCS_CONFIG_FILE (keys from the table), then `.stack/env` (written
 * by `npm run stack:up`), then the table's defaults.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { configError } from '../core/errors';
import { buildConfig, type RawValues } from './build';
import { secretFromFile } from './secret-files';
import { CONFIG_FILE_ENV, SETTINGS, STACK_ENV_FILE } from './settings';
import type { SettingSpec } from './spec';
import type { Config } from './types';

export interface LoadOptions {
  /** Environment to read; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Folder holding `.stack/env`; defaults to the current directory. */
  cwd?: string;
  /** Ignore `.stack/env` (tests that want only what they pass). */
  ignoreStackEnv?: boolean;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const stack = options.ignoreStackEnv ? {} : readStackEnv(path.join(cwd, STACK_ENV_FILE));
  const yamlFile = env[CONFIG_FILE_ENV];
  const fromYaml = yamlFile ? readYamlSettings(path.resolve(cwd, yamlFile)) : {};
  const raw: RawValues = {};
  for (const spec of SETTINGS as readonly SettingSpec[]) {
    const fromFile = secretFromFile(spec, env, cwd); // throws when both NAME and NAME_FILE are set
    raw[spec.env] =
      env[spec.env] ?? fromFile ?? fromYaml[spec.env] ?? stack[spec.env] ?? spec.default;
  }
  return buildConfig(raw);
}

/** Reads `export NAME=value` / `NAME=value` lines; quotes around the value are removed. */
export function readStackEnv(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m?.[1] && m[2] !== undefined) out[m[1]] = m[2].trim().replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

/** The YAML file's values keyed by environment variable; a key of no setting is an error. */
function readYamlSettings(file: string): Record<string, string> {
  if (!existsSync(file)) throw configError(CONFIG_FILE_ENV, `file ${file} does not exist`);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw configError(CONFIG_FILE_ENV, `${file} is not valid YAML: ${(err as Error).message}`);
  }
  const flat = flatten(doc ?? {}, '');
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(flat)) {
    const spec = (SETTINGS as readonly SettingSpec[]).find((s) => s.yaml === key);
    if (!spec) throw configError(`${file}: ${key}`, 'is not a known setting');
    out[spec.env] = value;
  }
  return out;
}

function flatten(node: unknown, prefix: string): Record<string, string> {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) {
    const text = Array.isArray(node) ? node.join(',') : String(node);
    return { [prefix]: text };
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(node)) {
    Object.assign(out, flatten(v, prefix ? `${prefix}.${k}` : k));
  }
  return out;
}
