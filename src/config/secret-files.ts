/**
 * Secrets from files, the convention of Docker and Kubernetes secrets: every secret setting
 * (`secret: true` in the table, e.g. REDIS_URL, MYSQL_URL, MCS_KAFKA_SASL_PASSWORD) can instead be
 * given as `<NAME>_FILE`, the path of a file holding the value (one trailing newline is dropped).
 * Giving both is an error; so is a file that cannot be read. The value never appears in a message.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configError } from '../core/errors';
import type { SettingSpec } from './settings';

export const FILE_SUFFIX = '_FILE';

/** The value of a secret setting read from `<NAME>_FILE`, or undefined when that is not set. */
export function secretFromFile(
  spec: SettingSpec,
  env: NodeJS.ProcessEnv,
  cwd: string,
): string | undefined {
  if (!spec.secret) return undefined;
  const fileVar = `${spec.env}${FILE_SUFFIX}`;
  const file = env[fileVar];
  if (file === undefined || file === '') return undefined;
  if (env[spec.env] !== undefined) {
    throw configError(`${spec.env} and ${fileVar}`, 'both are set; give the secret one way only');
  }
  let text: string;
  try {
    text = readFileSync(path.resolve(cwd, file), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw configError(`${fileVar} (${spec.yaml})`, `cannot read ${file} (${code})`);
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw configError(`${fileVar} (${spec.yaml})`, `${file} is empty`);
  return value;
}
