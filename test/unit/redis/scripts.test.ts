import calculateSlot from 'cluster-key-slot';
import { versionKey } from '../../../src/redis/scripts';

describe('versionKey', () => {
  it.each(['master:brands', 'master:products:category:12', 'a{tag}b', 'x{t}y{z}'])(
    'shares the hash slot of %s',
    (key) => {
      const v = versionKey(key);
      expect(v).toMatch(/^mcs:version:/);
      expect(calculateSlot(v as string)).toBe(calculateSlot(key));
    },
  );

  it.each(['a{}b', 'a{b', '{}'])('gives none for %s, whose braces form no tag', (key) => {
    expect(versionKey(key)).toBeUndefined();
  });
});
