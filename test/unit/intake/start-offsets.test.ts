import { committedOf, seedStarts } from '../../../src/intake/start-offsets';
import { refusedAsTooLarge } from '../../../src/intake/dead-letter';

describe('start offsets made concrete', () => {
  const parts = [
    { partition: 0, committed: undefined, low: 5n, high: 40n },
    { partition: 1, committed: 12n, low: 0n, high: 30n },
  ];

  it('latest: the end of each partition without a commit; committed ones untouched', () => {
    expect(seedStarts(parts, false)).toEqual([{ partition: 0, offset: 40n }]);
  });

  it('earliest: nothing to seed', () => {
    expect(seedStarts(parts, true)).toEqual([]);
  });

  it('reads -1 and empty as no commit', () => {
    expect([committedOf('-1'), committedOf(''), committedOf(undefined), committedOf('7')]).toEqual([
      undefined,
      undefined,
      undefined,
      7n,
    ]);
  });
});

describe('refusedAsTooLarge', () => {
  it("knows both clients' refusals and nothing else", () => {
    expect(refusedAsTooLarge(Object.assign(new Error('x'), { type: 'MESSAGE_TOO_LARGE' }))).toBe(
      true,
    );
    expect(
      refusedAsTooLarge(
        new Error(
          'Producing messages failed.: The request included a message larger than the max message size the server will accept.',
        ),
      ),
    ).toBe(true);
    expect(refusedAsTooLarge(new Error('Connection closed'))).toBe(false);
  });
});
