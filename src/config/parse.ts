/**
 * From text to value: the parsing of each setting type, then the setting's own `parse` (the
 * value parsers below, named in the table). Messages name the setting by its label,
 * `ENV (yaml.key)`.
 */
import { configError } from '../core/errors';
import { FAMILIES, isFamily, type Family } from '../core/families';
import { VALUE_FORMATS, type ValueFormat, type ValueFormats } from '../core/value-formats';
import { isSentinelUrl, parseSentinelUrl } from './sentinel';
import type { SettingSpec } from './spec';
import { LOG_LEVELS } from './choices';

/** `ENV (yaml.key)`, how messages name a setting. */
export function labelOf(spec: Pick<SettingSpec, 'env' | 'yaml'>): string {
  return `${spec.env} (${spec.yaml})`;
}

/** The value of one setting from its text (undefined: not set, an error unless defaulted). */
export function parseSetting(spec: SettingSpec, value: string | undefined): unknown {
  const label = labelOf(spec);
  if (value === undefined || (value.trim() === '' && spec.default === undefined)) {
    throw configError(label, 'is required but not set');
  }
  const parsed = parseType(spec, value.trim(), label);
  const parse = spec.parse as ((value: unknown, label: string) => unknown) | undefined;
  return parse ? parse(parsed, label) : parsed;
}

function parseType(spec: SettingSpec, text: string, label: string): unknown {
  switch (spec.type) {
    case 'string':
      if (spec.values) return oneOf(text, spec.values, label);
      return text;
    case 'level':
      if (!(LOG_LEVELS as readonly string[]).includes(text))
        throw configError(label, `must be one of ${LOG_LEVELS.join(', ')}`);
      return text;
    case 'bool':
      if (/^(true|1|yes|on)$/i.test(text)) return true;
      if (/^(false|0|no|off)$/i.test(text)) return false;
      throw configError(label, `must be true or false, got "${text}"`);
    case 'int': {
      if (!/^-?\d+$/.test(text)) throw configError(label, `must be a whole number, got "${text}"`);
      const n = Number(text);
      if (spec.min !== undefined && n < spec.min)
        throw configError(label, `must be >= ${spec.min}`);
      if (spec.max !== undefined && n > spec.max)
        throw configError(label, `must be <= ${spec.max}`);
      return n;
    }
    case 'list':
      return items(text);
    case 'hosts': {
      const hosts = items(text);
      if (hosts.length === 0) throw configError(label, 'must list at least one entry');
      for (const item of hosts) {
        if (!/^[^\s:]+:\d{1,5}$/.test(item)) {
          throw configError(label, `entry "${item}" is not host:port`);
        }
      }
      return hosts;
    }
    case 'url':
      return redisUrl(text, label);
  }
}

function items(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function redisUrl(text: string, label: string): string {
  if (isSentinelUrl(text)) {
    try {
      parseSentinelUrl(text);
    } catch (err) {
      throw configError(label, (err as Error).message);
    }
    return text;
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw configError(label, 'is not a valid URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw configError(label, `must start with redis:// or rediss://, got ${url.protocol}//`);
  }
  return text;
}

export function oneOf<T extends string>(value: string, allowed: readonly T[], label: string): T {
  if (!allowed.includes(value as T))
    throw configError(label, `must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

/** A share in (0, 1], e.g. `0.01`. */
export function share(text: string, label: string): number {
  const n = Number(text);
  if (!/^\d*\.?\d+(e-?\d+)?$/i.test(text) || !(n > 0 && n <= 1))
    throw configError(label, `must be a share between 0 (excluded) and 1, got "${text}"`);
  return n;
}

/** `1s,60s,5m,500ms` → ascending milliseconds. */
export function windows(items: readonly string[], label: string): number[] {
  const unit = { ms: 1, s: 1000, m: 60_000 } as const;
  const out = items.map((item) => {
    const m = /^(\d+)(ms|s|m)$/.exec(item);
    if (!m?.[1] || !m[2] || Number(m[1]) <= 0)
      throw configError(label, `"${item}" is not a positive duration like 1s, 500ms or 5m`);
    return Number(m[1]) * unit[m[2] as keyof typeof unit];
  });
  if (out.length === 0) throw configError(label, 'must list at least one window');
  if (out.some((v, i) => i > 0 && v <= (out[i - 1] as number)))
    throw configError(label, 'windows must be ascending');
  return out;
}

/** Family names, each one of FAMILIES. */
export function families(names: readonly string[], label: string): Family[] {
  const bad = names.find((f) => !isFamily(f));
  if (bad !== undefined) throw configError(label, `"${bad}" is not one of ${FAMILIES.join(', ')}`);
  return names as Family[];
}

/** `family=format` pairs (MCS_VALUE_FORMATS). */
export function valueFormats(pairs: readonly string[], label: string): ValueFormats {
  const out: Partial<Record<Family, ValueFormat>> = {};
  for (const pair of pairs) {
    const [family = '', format = ''] = pair.split('=').map((s) => s.trim());
    if (!isFamily(family))
      throw configError(label, `"${pair}": family must be one of ${FAMILIES.join(', ')}`);
    if (!VALUE_FORMATS.includes(format as ValueFormat))
      throw configError(label, `"${pair}": format must be one of ${VALUE_FORMATS.join(', ')}`);
    out[family] = format as ValueFormat;
  }
  return out;
}
