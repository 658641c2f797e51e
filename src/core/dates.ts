/**
 * Calendar keys (`YYYYMMDD`, `YYYYMM`) in the business time zone. What a column value means
 * decides whether a zone conversion happens:
 * - DATE ('YYYY-MM-DD', or days since epoch): a calendar date, taken as is.
 * - DATETIME ('YYYY-MM-DDTHH:MM:SS…' without offset, or epoch ms/µs of the wall clock): a wall
 *   clock in the database's zone; converted only when that zone differs from the business zone.
 * - TIMESTAMP (ISO text with Z or an offset): an instant, converted to the business zone.
 * So an order at 23:30 KST on the 31st is the 31st, whatever UTC's date is.
 */
export type ColumnType = 'date' | 'datetime' | 'datetime-micro';

export interface TimeZones {
  /** Zone the keys' dates are in (MCS_TIME_ZONE). */
  readonly business: string;
  /** Zone of DATETIME wall-clock values in the database (MCS_DB_TIME_ZONE). */
  readonly database: string;
}

export interface CalendarDay {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

const DAY_MS = 86_400_000;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const WALL_CLOCK = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Returns the business calendar day of a column value, or an error text. */
export function businessDay(
  value: unknown,
  type: ColumnType | undefined,
  zones: TimeZones,
): CalendarDay | string {
  if (typeof value === 'number' || typeof value === 'bigint') {
    const n = Number(value);
    switch (type) {
      case 'date':
        return dayOfInstant(n * DAY_MS, 'UTC');
      case 'datetime':
        return wallClockDay(n, zones);
      case 'datetime-micro':
        return wallClockDay(Math.floor(n / 1000), zones);
      default:
        return 'is a number; declare its column type (date, datetime, datetime-micro) in the rule';
    }
  }
  if (typeof value !== 'string')
    return `is a ${value === null ? 'null' : typeof value}, not a date`;
  let m = DATE_ONLY.exec(value);
  if (m) return { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  if (INSTANT.test(value)) {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return dayOfInstant(ms, zones.business);
  }
  m = WALL_CLOCK.exec(value);
  if (m) {
    const ms = Date.UTC(
      Number(m[1]),
      Number(m[2]) - 1,
      Number(m[3]),
      Number(m[4]),
      Number(m[5]),
      Number(m[6] ?? 0),
    );
    return wallClockDay(ms, zones);
  }
  return `"${value}" is not a date, datetime or timestamp`;
}

/** A wall clock (encoded as if UTC) in the database zone → business day. */
function wallClockDay(wallMs: number, zones: TimeZones): CalendarDay {
  if (zones.database === zones.business) return dayOfInstant(wallMs, 'UTC');
  return dayOfInstant(instantOfWallClock(wallMs, zones.database), zones.business);
}

const TRANSITION_SPAN_MS = DAY_MS;

/**
 * The instant a wall clock of `zone` shows. The offset is that of the instant, not of the wall
 * clock read as UTC (hours apart: across a DST transition the two differ by an hour). The
 * offsets a day either side are the candidates (zones change offset at most once a day); the
 * one that maps back to itself wins. A repeated hour (fall back) takes the first occurrence, a
 * skipped hour (spring forward) the offset before the transition: a wall clock a database
 * should not hold, still given a day.
 */
export function instantOfWallClock(wallMs: number, zone: string): number {
  const before = offsetAt(wallMs - TRANSITION_SPAN_MS, zone);
  const after = offsetAt(wallMs + TRANSITION_SPAN_MS, zone);
  const fits = (offset: number) => offsetAt(wallMs - offset, zone) === offset;
  if (before !== after && fits(before) && fits(after)) return wallMs - Math.max(before, after);
  if (fits(before)) return wallMs - before;
  if (fits(after)) return wallMs - after;
  return wallMs - before;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, f);
  }
  return f;
}

function parts(ms: number, zone: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') out[p.type] = Number(p.value);
  }
  return out;
}

export function dayOfInstant(ms: number, zone: string): CalendarDay {
  const p = parts(ms, zone);
  return { year: p.year ?? 0, month: p.month ?? 0, day: p.day ?? 0 };
}

/** Offset of a zone at an instant, in ms (whole seconds: what the formatter shows). */
function offsetAt(ms: number, zone: string): number {
  const p = parts(ms, zone);
  const asUtc = Date.UTC(
    p.year ?? 0,
    (p.month ?? 1) - 1,
    p.day ?? 1,
    p.hour ?? 0,
    p.minute ?? 0,
    p.second ?? 0,
  );
  return asUtc - Math.floor(ms / 1000) * 1000;
}

export function yyyymmdd(d: CalendarDay): string {
  return `${d.year}${String(d.month).padStart(2, '0')}${String(d.day).padStart(2, '0')}`;
}

export function yyyymm(d: CalendarDay): string {
  return `${d.year}${String(d.month).padStart(2, '0')}`;
}

/** The calendar day before `d`. */
export function previousDay(d: CalendarDay): CalendarDay {
  const ms = Date.UTC(d.year, d.month - 1, d.day) - DAY_MS;
  return dayOfInstant(ms, 'UTC');
}

/** Whether a zone name is known to the runtime's time zone database. */
export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
