import { businessDay, yyyymmdd, type TimeZones } from '../../../src/core/dates';

const day = (value: string | number, type: 'datetime' | undefined, zones: TimeZones) => {
  const d = businessDay(value, type, zones);
  if (typeof d === 'string') throw new Error(d);
  return yyyymmdd(d);
};

describe('DATETIME → business day across daylight-saving transitions of the database zone', () => {
  // Each wall clock lies between the transition and the transition shifted by the zone's offset,
  // where the wall clock read as UTC falls on the other side of the transition than the real
  // instant; the business zone puts the real instant within an hour of midnight, so an offset
  // one hour off moves the day. The real instant (ISO Z) is written out and its day checked on
  // the TIMESTAMP path too, which has no offset to look up.
  it.each([
    // spring forward 02:00 PST → 03:00 PDT (10:00Z): 07:30 PDT is 14:30Z, 23:30 KST on the 10th
    [
      '2024-03-10T07:30:00',
      'America/Los_Angeles',
      '2024-03-10T14:30:00Z',
      'Asia/Seoul',
      '20240310',
    ],
    // fall back 02:00 PDT → 01:00 PST (09:00Z): 06:30 PST is 14:30Z, 00:30 on the 4th at UTC+10
    [
      '2024-11-03T06:30:00',
      'America/Los_Angeles',
      '2024-11-03T14:30:00Z',
      'Australia/Brisbane',
      '20241104',
    ],
    // spring 02:00 EST → 03:00 EDT (07:00Z): 05:30 EDT is 09:30Z, 23:30 on the 10th at UTC+14
    [
      '2024-03-10T05:30:00',
      'America/New_York',
      '2024-03-10T09:30:00Z',
      'Pacific/Kiritimati',
      '20240310',
    ],
    // fall 02:00 EDT → 01:00 EST (06:00Z): 05:30 EST is 10:30Z, 00:30 on the 4th at UTC+14
    [
      '2024-11-03T05:30:00',
      'America/New_York',
      '2024-11-03T10:30:00Z',
      'Pacific/Kiritimati',
      '20241104',
    ],
    // zones east of UTC: the wall clock read as UTC is later than the real instant
    // spring 02:00 CET → 03:00 CEST (01:00Z): 01:30 CET is 00:30Z on the 31st
    ['2024-03-31T01:30:00', 'Europe/Berlin', '2024-03-31T00:30:00Z', 'UTC', '20240331'],
    // fall 03:00 CEST → 02:00 CET (01:00Z): 01:30 CEST is 23:30Z on the 26th
    ['2024-10-27T01:30:00', 'Europe/Berlin', '2024-10-26T23:30:00Z', 'UTC', '20241026'],
    // southern hemisphere: DST ends 03:00 AEDT → 02:00 AEST (16:00Z on the 6th)
    [
      '2024-04-07T00:30:00',
      'Australia/Sydney',
      '2024-04-06T13:30:00Z',
      'Australia/Brisbane',
      '20240406',
    ],
    // DST starts 02:00 AEST → 03:00 AEDT (16:00Z on the 5th)
    [
      '2024-10-06T00:30:00',
      'Australia/Sydney',
      '2024-10-05T14:30:00Z',
      'Australia/Brisbane',
      '20241006',
    ],
  ])('%s in %s (%s): in %s, day %s', (wall, database, instant, business, want) => {
    const zones = { business, database };
    expect(day(instant, undefined, zones)).toBe(want);
    expect(day(wall, undefined, zones)).toBe(want);
    // the same wall clock as epoch ms of the wall clock (a DATETIME without a schema)
    expect(day(Date.parse(`${wall}Z`), 'datetime', zones)).toBe(want);
  });

  it('a wall clock in the skipped or the repeated hour takes the offset before the transition', () => {
    // 02:30 does not exist on 2024-03-10 in Los Angeles: read with PST, 10:30Z, 00:30 HST
    const la = (business: string) => ({ business, database: 'America/Los_Angeles' });
    expect(day('2024-03-10T02:30:00', undefined, la('Pacific/Honolulu'))).toBe('20240310');
    // 01:30 happens twice on 2024-11-03: the first (PDT), 08:30Z, 23:30 on the 2nd at UTC-9
    expect(day('2024-11-03T01:30:00', undefined, la('Pacific/Gambier'))).toBe('20241102');
  });

  it('far from a transition nothing changes', () => {
    const zones = { business: 'Asia/Seoul', database: 'America/Los_Angeles' };
    expect(day('2024-07-01T07:30:00', undefined, zones)).toBe('20240701'); // 14:30Z, 23:30 KST
    expect(day('2024-07-01T08:30:00', undefined, zones)).toBe('20240702');
    expect(day('2024-01-15T06:30:00', undefined, zones)).toBe('20240115'); // 14:30Z
  });
});
