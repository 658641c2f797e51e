import { WriteBuilder } from '../../../src/row-index/requests';

/**
 * What the WRITE script of src/row-index/storage.ts finds in a partition's stream records, given
 * the head it stored before: the offset where the binlog was numbered anew (the first version
 * lower than the one before it, or of another kind), and the new head. A line-by-line port of
 * its loop.
 */
function storageFinds(
  records: readonly (readonly [string, string])[],
  head: readonly [number, string] | undefined,
): { resetAt: number | undefined; head: readonly [number, string] | undefined } {
  let [lastO, lastV] = head ?? [undefined, undefined];
  let resetAt: number | undefined;
  for (const [offset, v] of records) {
    const o = Number(offset);
    if (lastO === undefined || o > lastO) {
      if (lastV !== undefined && resetAt === undefined) {
        if (v.slice(0, 2) !== lastV.slice(0, 2) || v < lastV) resetAt = o;
      }
      lastO = o;
      lastV = v;
    }
  }
  return { resetAt, head: lastO === undefined ? undefined : [lastO, lastV as string] };
}

const NS = 'mis.user_auth';

function marks(versions: readonly string[], firstOffset = 100): [string, string][] {
  const w = new WriteBuilder();
  versions.forEach((v, i) => w.stream(NS, 0, String(firstOffset + i), v));
  return w.requests().find((r) => r.ns === NS)?.stream?.records ?? [];
}

const pos = (n: number) => `p:${String(n).padStart(20, '0')}:0000000000`;

/** A deterministic pseudo-random sequence (the test owns its inputs). */
function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe('WriteBuilder stream records', () => {
  it('keeps the first and the last record of a batch whose versions only rise', () => {
    expect(marks([pos(10), pos(20), pos(30), pos(40)])).toEqual([
      ['100', pos(10)],
      ['103', pos(40)],
    ]);
    expect(marks([pos(10)])).toEqual([['100', pos(10)]]);
  });

  it('keeps both records of each drop, and of each change of kind', () => {
    const gtid = `g:${'7'.padStart(20, '0')}:0000000000`;
    expect(marks([pos(10), pos(20), pos(5), pos(6), pos(7), gtid, pos(1)])).toEqual([
      ['100', pos(10)],
      ['101', pos(20)],
      ['102', pos(5)],
      ['104', pos(7)],
      ['105', gtid],
      ['106', pos(1)],
    ]);
  });

  it('leaves out tombstone versions and other partitions, as before', () => {
    const w = new WriteBuilder();
    w.stream(NS, 0, '1', pos(1));
    w.stream(NS, 0, '2', 'k:2');
    w.stream(NS, 1, '3', pos(3));
    w.stream(NS, 0, '4', pos(4));
    expect(w.requests()[0]?.stream).toEqual({
      partition: 0,
      records: [
        ['1', pos(1)],
        ['4', pos(4)],
      ],
    });
  });

  it('storage finds the same reset and head as with every record, wherever its head stands', () => {
    const next = rng(42);
    for (let round = 0; round < 400; round++) {
      const n = 1 + Math.floor(next() * 12);
      const versions: string[] = [];
      let p = 1000;
      for (let i = 0; i < n; i++) {
        const r = next();
        if (r < 0.1)
          p = Math.floor(next() * 1000); // numbered anew: lower (or not)
        else if (r < 0.15) {
          versions.push(`t:${String(Math.floor(next() * 1e6)).padStart(16, '0')}`);
          continue;
        } else p += 1 + Math.floor(next() * 50);
        versions.push(pos(p));
      }
      const all = versions.map((v, i) => [String(100 + i), v] as const);
      const kept = marks(versions);
      // No head; a head before the batch (any version); the head at each of the batch's records
      // (a redelivery of a batch partly written), and after it.
      const heads: ([number, string] | undefined)[] = [
        undefined,
        [50, pos(0)],
        [50, pos(99999)],
        ...all.map(([o, v]) => [Number(o), v] as [number, string]),
      ];
      for (const head of heads) {
        expect({ round, at: head, ...storageFinds(kept, head) }).toEqual({
          round,
          at: head,
          ...storageFinds(all, head),
        });
      }
    }
  });
});
