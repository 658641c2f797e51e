import { SyncError } from '../../../src/core/errors';
import { escapeGlob, parseTemplate, renderTemplate } from '../../../src/rules/template';

describe('parseTemplate', () => {
  it('splits literals and placeholders', () => {
    const t = parseTemplate('stats:*:brand:{brand_id}:x');
    expect(t.fields).toEqual(['brand_id']);
    expect(t.segments).toEqual([{ text: 'stats:*:brand:' }, { field: 'brand_id' }, { text: ':x' }]);
  });

  it.each([
    ['{}', /not a column name/],
    ['a:{1x}', /not a column name/],
    ['a:{b c}', /not a column name/],
    ['a:{b', /unbalanced/],
    ['a:b}', /unbalanced/],
  ])('rejects %s', (source, message) => {
    expect(() => parseTemplate(source)).toThrow(message);
  });
});

describe('renderTemplate', () => {
  const t = parseTemplate('permissions:user:{user_id}');

  it('fills values of every scalar type', () => {
    expect(renderTemplate(t, { user_id: 12 }, { escapeGlob: false })).toBe('permissions:user:12');
    expect(renderTemplate(t, { user_id: '관리자' }, { escapeGlob: false })).toBe(
      'permissions:user:관리자',
    );
    expect(renderTemplate(t, { user_id: 9007199254740993n }, { escapeGlob: false })).toBe(
      'permissions:user:9007199254740993',
    );
  });

  it('gives no key for a NULL column', () => {
    expect(renderTemplate(t, { user_id: null }, { escapeGlob: false })).toBeNull();
  });

  it('escapes glob characters of values in patterns only', () => {
    const p = parseTemplate('stats:*:brand:{brand_id}');
    expect(renderTemplate(p, { brand_id: 'a*[b]?' }, { escapeGlob: true })).toBe(
      'stats:*:brand:a\\*\\[b\\]\\?',
    );
    expect(renderTemplate(p, { brand_id: 'a*' }, { escapeGlob: false })).toBe('stats:*:brand:a*');
  });

  it('puts * for every placeholder when asked (truncate)', () => {
    expect(renderTemplate(t, null, { escapeGlob: true, wildcardFields: true })).toBe(
      'permissions:user:*',
    );
  });

  it.each([
    [
      'a missing column',
      {},
      /column "user_id" used by key permissions:user:\{user_id\} is missing/,
    ],
    ['an object value', { user_id: { a: 1 } }, /holds a object/],
  ])('fails with FIELD_INVALID on %s', (_label, row, message) => {
    try {
      renderTemplate(t, row, { escapeGlob: false });
      throw new Error('expected a failure');
    } catch (err) {
      expect((err as SyncError).code).toBe('FIELD_INVALID');
      expect((err as Error).message).toMatch(message);
    }
  });
});

describe('escapeGlob', () => {
  it('escapes backslash too', () => {
    expect(escapeGlob('a\\b')).toBe('a\\\\b');
  });
});

describe('date formats', () => {
  const t = parseTemplate('stats:daily_sales:{d|yyyymmdd}:{d|yyyymm}');
  it('renders dates in the business zone', () => {
    const zones = { business: 'Asia/Seoul', database: 'Asia/Seoul' };
    expect(renderTemplate(t, { d: '2024-01-31T15:30:00Z' }, { escapeGlob: false, zones })).toBe(
      'stats:daily_sales:20240201:202402',
    );
  });
  it('uses declared column types for values without a schema', () => {
    expect(renderTemplate(t, { d: 19753 }, { escapeGlob: false, columnTypes: { d: 'date' } })).toBe(
      'stats:daily_sales:20240131:202401',
    );
    expect(() => renderTemplate(t, { d: 19753 }, { escapeGlob: false })).toThrow(
      /declare its column type/,
    );
  });
  it('rejects unknown formats', () => {
    expect(() => parseTemplate('k:{d|ddmm}')).toThrow(/format must be one of yyyymmdd, yyyymm/);
  });
});
