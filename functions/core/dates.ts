/** Calendar dates as `YYYY-MM-DD` strings in UTC. Lexical order of such strings is chronological order. */

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isIsoDate(value: string): boolean {
  const match = ISO_DATE.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= daysInMonth(year, month);
}

/** The earliest date the service takes: older ones are typing mistakes (a year 0026, 0000). */
export const EARLIEST_DATE = '1900-01-01';

/** A real calendar date, not before EARLIEST_DATE. */
export function isServiceDate(value: string): boolean {
  return isIsoDate(value) && value >= EARLIEST_DATE;
}

export function todayUtc(now: Date): string {
  return now.toISOString().slice(0, 10);
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The same day a number of months later; a day the later month lacks (29 February) becomes its last day. */
/** The last date the service can write: later ones are held at it rather than overflow the format. */
const LATEST_DATE = '9999-12-31';

export function addDays(date: string, days: number): string {
  if (!isIsoDate(date)) throw new RangeError('addDays needs a YYYY-MM-DD date');
  const moved = new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000);
  return moved.getUTCFullYear() > 9999 ? LATEST_DATE : moved.toISOString().slice(0, 10);
}

export function addMonths(date: string, months: number): string {
  const match = ISO_DATE.exec(date);
  if (!match) throw new RangeError('addMonths needs a YYYY-MM-DD date');
  const total = Number(match[1]) * 12 + (Number(match[2]) - 1) + months;
  const year = Math.floor(total / 12);
  if (year > 9999) return LATEST_DATE;
  const month = (total % 12) + 1;
  const day = Math.min(Number(match[3]), daysInMonth(year, month));
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}
