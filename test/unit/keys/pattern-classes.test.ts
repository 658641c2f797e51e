/** Pattern classes: which keys the index holds, in which bucket, and how a pattern is answered. */
import {
  compileClasses,
  lookupFor,
  placeKey,
  type PatternClass,
} from '../../../src/keys/pattern-classes';
import { missingNotifyFlags } from '../../../src/redis/keyspace';
import { escapeGlob } from '../../../src/rules/template';

const classes = compileClasses([
  { family: 'stats', template: 'stats:*:brand:{brand_id}' },
  { family: 'stats', template: 'stats:*:brand:{brand_id}:*' },
  { family: 'stats', template: 'stats:*:brand:{brand_id}' }, // duplicate: one class
]);
const [single, sub] = classes as [PatternClass, PatternClass];

/** What the index would answer: bucket (or class) keys, filtered by the pattern. */
function answer(keys: string[], pattern: string): string[] {
  const l = lookupFor(classes, 'stats', pattern);
  if (!l) throw new Error(`no class covers ${pattern}`);
  const out = new Set<string>();
  for (const k of keys) {
    for (const p of placeKey(classes, k)) {
      if (p.cls !== l.cls) continue;
      const inBucket = l.bucket === undefined || p.bucket === undefined || p.bucket === l.bucket;
      if (inBucket && l.test.test(k)) out.add(k);
    }
  }
  return [...out].sort();
}

describe('pattern classes', () => {
  it('compiles one class per distinct template, placeholders as *', () => {
    expect(classes).toHaveLength(2);
    expect(single.glob).toBe('stats:*:brand:*');
    expect(sub.glob).toBe('stats:*:brand:*:*');
    expect(single.prefix).toBe('stats:');
  });

  it('buckets a key by its placeholder value when that value is unique', () => {
    expect(placeKey(classes, 'stats:sales:brand:2').map((p) => [p.cls.id, p.bucket])).toEqual([
      [0, '2'],
    ]);
    expect(placeKey(classes, 'permissions:user:2')).toEqual([]);
    // two readings (brand "x:brand:3" or brand "3"): kept aside, never bucketed
    const ambiguous = placeKey(classes, 'stats:a:brand:x:brand:3');
    expect(ambiguous.find((p) => p.cls === single)?.bucket).toBeUndefined();
  });

  it('answers exactly what SCAN MATCH would: brand 1 never returns brand 10 or 12', () => {
    const keys = [
      'stats:sales:brand:1',
      'stats:sales:brand:10',
      'stats:sales:brand:12:x',
      'stats:sales:brand:1:daily',
      'stats:a:brand:x:brand:1',
      'stats:daily_sales:20240101',
    ];
    expect(answer(keys, `stats:*:brand:${escapeGlob('1')}`)).toEqual([
      'stats:a:brand:x:brand:1',
      'stats:sales:brand:1',
    ]);
    expect(answer(keys, `stats:*:brand:${escapeGlob('1')}:*`)).toEqual([
      'stats:sales:brand:1:daily',
    ]);
  });

  it('covers truncate patterns (every placeholder *) with the whole class', () => {
    const l = lookupFor(classes, 'stats', 'stats:*:brand:*');
    expect(l?.cls).toBe(single);
    expect(l?.bucket).toBeUndefined();
  });

  it('unescapes glob characters of a value and leaves uncovered patterns to the walk', () => {
    expect(lookupFor(classes, 'stats', `stats:*:brand:${escapeGlob('a*b')}`)?.bucket).toBe('a*b');
    expect(lookupFor(classes, 'stats', 'stats:daily_*:20240101')).toBeUndefined();
    expect(lookupFor(classes, 'master', 'stats:*:brand:1')).toBeUndefined();
  });
});

describe('notify-keyspace-events check', () => {
  it.each([
    ['', 'Kg$lshzt'],
    ['Ex', 'Kg$lshzt'],
    ['K', 'g$lshzt'],
    ['K$', 'glshzt'], // what the start-up check once accepted: RENAME, hashes… never heard of
    ['Kg$xe', 'lshzt'],
    ['Kg$lshzt', undefined],
    ['Kg$lshztxe', undefined],
    ['KA', undefined],
    ['AKE', undefined],
  ])('%j lacks %j', (flags, missing) => {
    expect(missingNotifyFlags(flags)).toBe(missing);
  });
});
