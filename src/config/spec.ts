/**
 * What one setting declares, after Debezium's connector `Field`: its name, its place, its type,
 * default, bounds and meaning, and nothing else; its YAML key, its value's type, the shape of
 * everything read and its redaction are derived from these (settings.ts, build.ts, redact.ts).
 */
import type { LogLevel } from './choices';

export type SettingType = 'string' | 'url' | 'int' | 'bool' | 'hosts' | 'list' | 'level';

/** What the text of a setting of each type parses to (parse.ts). */
export interface TypeValue {
  string: string;
  url: string;
  int: number;
  bool: boolean;
  hosts: string[];
  list: string[];
  level: LogLevel;
}

/** The default text each type accepts: the compiler refuses `default: 'ten'` on an int. */
interface DefaultText {
  string: string;
  url: string;
  int: `${number}`;
  bool: 'true' | 'false';
  hosts: string;
  list: string;
  level: LogLevel;
}

interface Declared<T extends SettingType> {
  /** Environment variable. */
  readonly env: string;
  /** Its place in Config, dotted (`kafka.groupId`): the place exists because the setting names it. */
  readonly at: string;
  /** Dotted key in the YAML file (MCS_CONFIG_FILE) when it is not `at`. */
  readonly yaml?: string;
  readonly type: T;
  /** Default as text; absent means required. */
  readonly default?: DefaultText[T];
  /** Never printed; may be given as `<env>_FILE` (secret-files.ts). */
  readonly secret?: boolean;
  /** Printed with redactUrl (the password in the URL hidden) instead of `***`. */
  readonly redact?: 'url';
  /** Read only when another setting is on, off or set; else its place holds `otherwise`. */
  readonly readIf?: {
    readonly setting: string;
    readonly is: 'on' | 'off' | 'set';
    readonly otherwise: TypeValue[T];
  };
  /** Turns the parsed value into what its place holds (throws configError with the label). */
  readonly parse?: (value: TypeValue[T], label: string) => unknown;
  readonly doc: string;
}

interface IntDeclared extends Declared<'int'> {
  readonly min?: number;
  readonly max?: number;
}

interface StringDeclared extends Declared<'string'> {
  /** The only values allowed ("must be one of …"). */
  readonly values?: readonly string[];
}

/** One entry of a section of the table (settings/*.ts). */
export type SettingDecl =
  | StringDeclared
  | IntDeclared
  | Declared<'url'>
  | Declared<'bool'>
  | Declared<'hosts'>
  | Declared<'list'>
  | Declared<'level'>;

/** One entry of SETTINGS: the declaration with its YAML key filled in. */
export type SettingSpec = SettingDecl & { readonly yaml: string };

/** The YAML key defaults to the place in Config. */
export type WithYaml<T extends readonly SettingDecl[]> = {
  readonly [I in keyof T]: T[I] extends { readonly yaml: string }
    ? T[I]
    : T[I] & { readonly yaml: T[I]['at'] };
};

/** The type of the value a setting puts at its place. */
export type ValueOf<S> = S extends { readonly parse: (...args: never[]) => infer R }
  ? R
  : S extends { readonly values: readonly (infer V)[] }
    ? V
    : S extends { readonly type: infer T extends SettingType }
      ? TypeValue[T]
      : never;

type Head<P extends string> = P extends `${infer H}.${string}` ? H : P;
type Below<S, H extends string> = S extends { readonly at: `${H}.${infer Rest}` }
  ? Omit<S, 'at'> & { readonly at: Rest }
  : never;

/**
 * The nested object the settings S fill, computed from their places: one member per first part
 * of `at`, a setting's value where `at` ends there, else the tree of the settings below it.
 */
export type SettingsTree<S extends { readonly at: string }> = {
  readonly [H in Head<S['at']>]: [Extract<S, { readonly at: H }>] extends [never]
    ? SettingsTree<Below<S, H>>
    : ValueOf<Extract<S, { readonly at: H }>>;
};
