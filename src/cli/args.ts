/** Minimal `--name value` / `--flag` parsing for the subcommands; unknown options are errors. */
import { SyncError } from '../errors';
export interface ParsedArgs {
  readonly positional: string[];
  readonly options: Map<string, string | true>;
}

export function parseArgs(
  argv: readonly string[],
  known: Readonly<Record<string, 'value' | 'flag'>>,
): ParsedArgs {
  const positional: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const kind = known[name];
    if (!kind)
      throw new Error(
        `unknown option --${name} (known: ${Object.keys(known)
          .map((k) => `--${k}`)
          .join(', ')})`,
      );
    if (kind === 'flag') options.set(name, true);
    else {
      const value = inline ?? argv[++i];
      if (value === undefined || value.startsWith('--'))
        throw new SyncError('CONFIG_INVALID', `--${name} needs a value`);
      options.set(name, value);
    }
  }
  return { positional, options };
}

export function listOption(args: ParsedArgs, name: string): string[] {
  const v = args.options.get(name);
  return typeof v === 'string'
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}
