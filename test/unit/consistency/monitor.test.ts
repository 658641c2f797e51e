/** Pure parts of the consistency monitor: nines, window labels, the windows setting. */
import { windows } from '../../../src/config/config';
import { nines, windowLabel } from '../../../src/consistency/monitor';

describe('monitor figures', () => {
  it('nines is -log10 of the inconsistent share, log10(checks) while none failed', () => {
    expect(nines(0, 0)).toBeUndefined();
    expect(nines(1000, 1)).toBeCloseTo(3);
    expect(nines(100, 10)).toBeCloseTo(1);
    expect(nines(100, 100)).toBeCloseTo(0);
    expect(nines(10_000, 0)).toBeCloseTo(4);
  });

  it('labels windows as they are written', () => {
    expect([1000, 60_000, 300_000, 500, 600_000].map(windowLabel)).toEqual([
      '1s',
      '60s',
      '300s',
      '500ms',
      '10m',
    ]);
  });

  it('parses the windows setting: units, ascending, positive', () => {
    expect(windows(['1s', '60s', '5m'], 'W')).toEqual([1000, 60_000, 300_000]);
    expect(windows(['500ms'], 'W')).toEqual([500]);
    expect(() => windows(['2s', '1s'], 'W')).toThrow('W: windows must be ascending');
    expect(() => windows(['0s'], 'W')).toThrow('is not a positive duration');
    expect(() => windows(['1h'], 'W')).toThrow('is not a positive duration');
    expect(() => windows([], 'W')).toThrow('at least one window');
  });
});
