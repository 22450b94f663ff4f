/** How the page words the API's codes and dates. */
export const PLAN_TYPE_WORDS = {
  CPP: 'Child protection plan',
  LAC: 'Looked after child',
  UCPP: 'Unborn child protection plan',
} as const;

const DATE = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  timeZone: 'UTC',
});
const DATE_TIME = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
  timeZone: 'Europe/London',
  timeZoneName: 'short',
});

/** 2026-03-01 → 1 March 2026 */
export const formatDate = (date: string) => DATE.format(new Date(`${date}T00:00:00Z`));
/** An instant, in UK time. */
export const formatDateTime = (instant: string) => DATE_TIME.format(new Date(instant));
