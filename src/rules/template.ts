/**
 * Key templates: literal text with `{column}` or `{column|format}` placeholders. Parsed once at
 * start; rendered per row image on the hot path without re-parsing. Formats: `yyyymmdd`,
 * `yyyymm` (a date in the business time zone, see dates.ts).
 */
import { SyncError } from '../core/errors';
import type { Row } from '../envelope/types';
import { businessDay, yyyymm, yyyymmdd, type ColumnType, type TimeZones } from '../core/dates';

export const FORMATS = ['yyyymmdd', 'yyyymm'] as const;
export type Format = (typeof FORMATS)[number];

export type Segment =
  { readonly text: string } | { readonly field: string; readonly format?: Format };

export interface Template {
  readonly source: string;
  readonly segments: readonly Segment[];
  readonly fields: readonly string[];
}

const PLACEHOLDER = /\{([^{}]*)\}/g;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses a template; throws a plain Error describing the problem (the caller adds the file). */
export function parseTemplate(source: string): Template {
  const segments: Segment[] = [];
  let last = 0;
  for (const m of source.matchAll(PLACEHOLDER)) {
    const [name = '', format, ...extra] = (m[1] ?? '').split('|');
    if (!IDENTIFIER.test(name)) throw new Error(`placeholder {${m[1]}} is not a column name`);
    if (extra.length > 0 || (format !== undefined && !FORMATS.includes(format as Format))) {
      throw new Error(`placeholder {${m[1]}}: format must be one of ${FORMATS.join(', ')}`);
    }
    if (m.index > last) segments.push({ text: source.slice(last, m.index) });
    segments.push(
      format === undefined ? { field: name } : { field: name, format: format as Format },
    );
    last = m.index + m[0].length;
  }
  if (last < source.length) segments.push({ text: source.slice(last) });
  const rest = segments.filter((s): s is { text: string } => 'text' in s).map((s) => s.text);
  if (rest.some((t) => t.includes('{') || t.includes('}'))) {
    throw new Error('unbalanced { or } in template');
  }
  const fields = segments.filter((s): s is { field: string } => 'field' in s).map((s) => s.field);
  return { source, segments, fields: [...new Set(fields)] };
}

export interface RenderOptions {
  /** Escape glob characters in filled-in values (pattern-delete templates). */
  readonly escapeGlob: boolean;
  /** Put `*` in place of every placeholder (truncate: every key of the family). */
  readonly wildcardFields?: boolean;
  /** Put `*` in place of the placeholders whose column the row does not have. */
  readonly wildcardMissing?: boolean;
  readonly zones?: TimeZones;
  /** Declared column types, for date formats of values that came without a schema. */
  readonly columnTypes?: Readonly<Record<string, ColumnType>>;
}

const UTC_ZONES: TimeZones = { business: 'UTC', database: 'UTC' };

/**
 * Fills a template from one row image. Returns null when a column used by the template is
 * NULL in this image (such a row has no key of this family).
 */
export function renderTemplate(t: Template, row: Row | null, opts: RenderOptions): string | null {
  let out = '';
  for (const seg of t.segments) {
    if ('text' in seg) {
      out += seg.text;
      continue;
    }
    if (opts.wildcardFields || (opts.wildcardMissing && !(row && seg.field in row))) {
      out += '*';
      continue;
    }
    const text = keyPart(row, seg, t.source, opts);
    if (text === null) return null;
    out += opts.escapeGlob ? escapeGlob(text) : text;
  }
  return out;
}

/**
 * The glob of every key a row image can have when some columns of the template cannot be read
 * (missing from the image, or a value no key can be made of): those become `*`, the others are
 * filled in glob-escaped; literal text is escaped unless it is a glob already (`literalIsGlob`,
 * a pattern-delete target). Null when a column is NULL in this image (no key of this family).
 */
export function renderFallback(
  t: Template,
  row: Row | null,
  opts: RenderOptions & { readonly literalIsGlob: boolean },
): string | null {
  let out = '';
  for (const seg of t.segments) {
    if ('text' in seg) {
      out += opts.literalIsGlob ? seg.text : escapeGlob(seg.text);
      continue;
    }
    let text: string | null;
    try {
      text = keyPart(row, seg, t.source, opts);
    } catch {
      out += '*';
      continue;
    }
    if (text === null) return null;
    out += escapeGlob(text);
  }
  return out;
}

function keyPart(
  row: Row | null,
  seg: { field: string; format?: Format },
  template: string,
  opts: RenderOptions,
): string | null {
  const { field } = seg;
  if (!row || !(field in row)) {
    throw fieldError(field, template, 'is missing');
  }
  const value = row[field];
  if (value === null || value === undefined) return null;
  if (seg.format) {
    const day = businessDay(value, opts.columnTypes?.[field], opts.zones ?? UTC_ZONES);
    if (typeof day === 'string') throw fieldError(field, template, day);
    return seg.format === 'yyyymmdd' ? yyyymmdd(day) : yyyymm(day);
  }
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(value);
    default:
      throw fieldError(field, template, `holds a ${typeof value}`);
  }
}

function fieldError(field: string, template: string, problem: string): SyncError {
  return new SyncError('FIELD_INVALID', `column "${field}" used by key ${template} ${problem}`, {
    details: { field, template },
  });
}

/** Escapes Redis glob metacharacters so the text matches only itself. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

export function hasGlob(text: string): boolean {
  return /[*?[\]]/.test(text);
}
