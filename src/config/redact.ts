/**
 * A copy of the configuration safe to print, derived from the table: the value at the place of
 * every `secret` or `redact` setting is replaced, `***`, or for a URL its password.
 */
import { redactSentinelUrl, isSentinelUrl } from './sentinel';
import { SETTINGS } from './settings';
import type { SettingSpec } from './spec';
import type { Config } from './types';

/** The settings whose values are not printed as they are. */
export const REDACTED: readonly SettingSpec[] = (SETTINGS as readonly SettingSpec[]).filter(
  (s) => s.secret || s.redact,
);

/** A copy of the configuration safe to print: passwords replaced. */
export function redactConfig(config: Config): unknown {
  const copy = structuredClone(config) as unknown as Record<string, unknown>;
  for (const spec of REDACTED) {
    const parts = spec.at.split('.');
    const last = parts.pop() as string;
    let node: Record<string, unknown> | undefined = copy;
    for (const part of parts) node = node?.[part] as Record<string, unknown> | undefined;
    const value = node?.[last];
    if (node && typeof value === 'string' && value !== '') {
      node[last] = spec.redact === 'url' ? redactUrl(value) : '***';
    }
  }
  return copy;
}

/** The URL with its password replaced, for logs and error messages. */
export function redactUrl(url: string): string {
  if (isSentinelUrl(url)) return redactSentinelUrl(url);
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    u.searchParams.forEach((_v, k) => {
      if (/pass|secret|token/i.test(k)) u.searchParams.set(k, '***');
    });
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}
