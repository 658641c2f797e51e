/**
 * Key templates: literal text with `{column}` placeholders. Parsed once at start; rendered per
 * row image on the hot path without re-parsing.
 */
import { SyncError } from '../errors';
import type { Row } from '../envelope/types';

export type Segment = { readonly text: string } | { readonly field: string };

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
    const name = m[1] ?? '';
    if (!IDENTIFIER.test(name)) throw new Error(`placeholder {${name}} is not a column name`);
    if (m.index > last) segments.push({ text: source.slice(last, m.index) });
    segments.push({ field: name });
    last = m.index + m[0].length;
  }
  if (last < source.length) segments.push({ text: source.slice(last) });
  const rest = segments.filter((s): s is { text: string } => 'text' in s).map((s) => s.text);
  if (rest.some((t) => t.includes('{') || t.includes('}'))) {
    throw new Error('unbalanced { or } in template');
  }
  const fields = segments.filter((s): s is { field: string } => 'field' in s).map((s) => s.field);
  return { source, segments, fields };
}

export interface RenderOptions {
  /** Escape glob characters in filled-in values (pattern-delete templates). */
  readonly escapeGlob: boolean;
  /** Put `*` in place of every placeholder (truncate: every key of the family). */
  readonly wildcardFields?: boolean;
}

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
    if (opts.wildcardFields) {
      out += '*';
      continue;
    }
    const text = keyPart(row, seg.field, t.source);
    if (text === null) return null;
    out += opts.escapeGlob ? escapeGlob(text) : text;
  }
  return out;
}

function keyPart(row: Row | null, field: string, template: string): string | null {
  if (!row || !(field in row)) {
    throw new SyncError('FIELD_INVALID', `column "${field}" used by key ${template} is missing`, {
      details: { field, template },
    });
  }
  const value = row[field];
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(value);
    default:
      throw new SyncError(
        'FIELD_INVALID',
        `column "${field}" used by key ${template} holds a ${typeof value}`,
        {
          details: { field, template },
        },
      );
  }
}

/** Escapes Redis glob metacharacters so the text matches only itself. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

export function hasGlob(text: string): boolean {
  return /[*?[\]]/.test(text);
}
