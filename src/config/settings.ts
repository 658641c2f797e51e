/**
 * Every setting the service reads, in one table (its sections in settings/): its environment
 * variable, its place in Config, its type, default and what it means. Derived from it: the type
 * of what is read (Settings) and the mapping to Config (build.ts), the YAML keys, the sources
 * (load.ts, secret-files.ts), the redaction of secrets (redact.ts) and the documentation
 * (`mis-cache-sync config --doc`, `npm run docs:settings`), so none can drift from the others.
 */
import { KAFKA } from './settings/kafka';
import { REDIS_CLIENT, REDIS_SERVER } from './settings/redis';
import { MONITOR_AND_CONNECT, SERVICE } from './settings/service';
import { DATA_SOURCES, TIME_AND_SCHEDULE } from './settings/sources';
import { labelOf } from './parse';
import type { SettingDecl, SettingSpec, SettingsTree, WithYaml } from './spec';

export type { SettingSpec, SettingType } from './spec';

/** In the order of the documentation. */
const DECLARED = [
  ...KAFKA,
  ...REDIS_SERVER,
  ...DATA_SOURCES,
  ...TIME_AND_SCHEDULE,
  ...REDIS_CLIENT,
  ...SERVICE,
  ...MONITOR_AND_CONNECT,
] as const satisfies readonly SettingDecl[];

export const SETTINGS = (DECLARED as readonly SettingDecl[]).map((s) => ({
  ...s,
  yaml: s.yaml ?? s.at,
})) as unknown as WithYaml<typeof DECLARED>;

export type Setting = (typeof SETTINGS)[number];
export type EnvName = Setting['env'];
/** What the table reads, each value at its place: Config before the derivations of build.ts. */
export type Settings = SettingsTree<Setting>;

// What the entry types cannot say, checked here: a default outside its setting's `values`, or a
// `readIf` naming no setting, does not compile (the offending entry shows in the message).
type Misdeclared<S> = S extends { readonly values: readonly (infer V)[]; readonly default: infer D }
  ? D extends V
    ? never
    : S
  : S extends { readonly readIf: { readonly setting: infer N } }
    ? N extends EnvName
      ? never
      : S
    : never;
const wellDeclared: [Misdeclared<Setting>] extends [never] ? true : Misdeclared<Setting> = true;
void wellDeclared;

export function specOf(name: EnvName): SettingSpec {
  const spec = (SETTINGS as readonly SettingSpec[]).find((s) => s.env === name);
  if (!spec) throw new Error(`unknown setting ${name}`);
  return spec;
}

/** `ENV (yaml.key)` of a setting, for messages. */
export function settingLabel(name: EnvName): string {
  return labelOf(specOf(name));
}

/** Where the service looks for the local stack's environment (lowest precedence). */
export const STACK_ENV_FILE = '.stack/env';
/** Points at an optional YAML file with the settings above (dotted keys as nesting). */
export const CONFIG_FILE_ENV = 'MCS_CONFIG_FILE';
