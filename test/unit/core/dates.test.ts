import { businessDay, previousDay, yyyymm, yyyymmdd } from '../../../src/core/dates';

const seoul = { business: 'Asia/Seoul', database: 'Asia/Seoul' };
const seoulFromUtcDb = { business: 'Asia/Seoul', database: 'UTC' };
const day = (v: unknown, type?: 'date' | 'datetime' | 'datetime-micro', zones = seoul) => {
  const d = businessDay(v, type, zones);
  if (typeof d === 'string') throw new Error(d);
  return yyyymmdd(d);
};

describe('businessDay', () => {
  it('takes a DATE as the calendar date it is, in any form', () => {
    expect(day('2024-01-31')).toBe('20240131');
    expect(day(19753, 'date')).toBe('20240131'); // days since epoch without a schema
  });

  it('a TIMESTAMP at 23:30 KST on the 31st belongs to the 31st, though UTC says the 31st 14:30', () => {
    expect(day('2024-01-31T14:30:00Z')).toBe('20240131');
    // 00:30 KST on Feb 1st is still Jan 31st in UTC: the key must say Feb 1st
    expect(day('2024-01-31T15:30:00Z')).toBe('20240201');
    expect(day('2024-02-01T00:30:00+09:00')).toBe('20240201');
  });

  it('a DATETIME is a wall clock of the database zone', () => {
    expect(day('2024-01-31T23:30:00.000000')).toBe('20240131');
    expect(day(Date.UTC(2024, 0, 31, 23, 30), 'datetime')).toBe('20240131');
    expect(day(Date.UTC(2024, 0, 31, 23, 30) * 1000, 'datetime-micro')).toBe('20240131');
    // a database keeping UTC wall clocks: 15:30 UTC is 00:30 KST the next day
    expect(day('2024-01-31 15:30:00', undefined, seoulFromUtcDb)).toBe('20240201');
  });

  it('explains what it cannot read', () => {
    expect(businessDay(19753, undefined, seoul)).toMatch(/declare its column type/);
    expect(businessDay('soon', 'date', seoul)).toMatch(/"soon" is not a date/);
    expect(businessDay({}, 'date', seoul)).toMatch(/is a object/);
  });
});

describe('calendar helpers', () => {
  it('formats months and steps back across month and year ends', () => {
    expect(yyyymm({ year: 2024, month: 3, day: 9 })).toBe('202403');
    expect(yyyymmdd(previousDay({ year: 2024, month: 3, day: 1 }))).toBe('20240229');
    expect(yyyymmdd(previousDay({ year: 2024, month: 1, day: 1 }))).toBe('20231231');
  });
});
