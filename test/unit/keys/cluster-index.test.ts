/** The hash tag of a master's fence and marker keys: a slot that master owns. */
import calculateSlot from 'cluster-key-slot';
import { ownTag } from '../../../src/keys/cluster-index';

describe('ownTag', () => {
  it.each(['0-5460', '5461-10922', '10923-16383', '100-100', '0-10,16000-16383'])(
    'picks a tag whose slot lies in %s',
    (ranges) => {
      const tag = ownTag(ranges);
      const slot = calculateSlot(`mcs:pidx:fence:{${tag}}:abc:0:1`);
      expect(slot).toBe(calculateSlot(tag));
      const spans = ranges.split(',').map((r) => r.split('-').map(Number));
      expect(spans.some(([a = -1, b = -1]) => slot >= a && slot <= b)).toBe(true);
    },
  );
});
