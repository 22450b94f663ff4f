import { addDays, addMonths } from './dates';

export const PLAN_TYPES = ['CPP', 'LAC', 'UCPP'] as const;
export type PlanType = (typeof PLAN_TYPES)[number];

export const PLAN_TYPE_SNOMED: Record<PlanType, string> = {
  CPP: '342191000000101',
  LAC: '764841000000100',
  UCPP: '818901000000100',
};

export function isPlanType(value: string): value is PlanType {
  return (PLAN_TYPES as readonly string[]).includes(value);
}

/** An ended child protection plan or looked-after status stays visible this many months after its end. */
export const VISIBLE_MONTHS_AFTER_END = 12;
/** An unborn-child plan stays visible this many days after its end: the baby then has its own number. */
export const UNBORN_VISIBLE_DAYS_AFTER_END = 28;

export interface PlanDates {
  startDate: string;
  endDate: string | null;
}

/** The last day an ended plan is still shown (inclusive). */
export function lastVisibleDay(endDate: string, planType: PlanType): string {
  return planType === 'UCPP'
    ? addDays(endDate, UNBORN_VISIBLE_DAYS_AFTER_END)
    : addMonths(endDate, VISIBLE_MONTHS_AFTER_END);
}

export function isPlanVisible(plan: PlanDates & { planType: PlanType }, today: string): boolean {
  return plan.endDate === null || today <= lastVisibleDay(plan.endDate, plan.planType);
}

/**
 * When a plan may leave the table (the TTL attribute, epoch seconds): the end of its last visible day,
 * UTC. None for an open plan. Lookups never rely on it (DynamoDB deletes expired items within days).
 */
export function planExpiry(plan: PlanDates & { planType: PlanType }): number | undefined {
  if (plan.endDate === null) return undefined;
  const lastDay = lastVisibleDay(plan.endDate, plan.planType);
  // A plan visible to the end of the calendar the service writes never expires.
  return lastDay === '9999-12-31' ? undefined : Date.parse(`${addDays(lastDay, 1)}T00:00:00Z`) / 1000;
}

/** A plan is open on a day when it has no end date or ends later (a plan ended today is ended). */
export function isPlanOpen(plan: PlanDates, today: string): boolean {
  return plan.endDate === null || plan.endDate > today;
}

/** Newest start first; ties broken by plan type then council so the order is stable. */
export function comparePlansForDisplay<T extends PlanDates & { planType: string; councilCode: string }>(
  a: T,
  b: T,
): number {
  if (a.startDate !== b.startDate) return a.startDate < b.startDate ? 1 : -1;
  if (a.planType !== b.planType) return a.planType < b.planType ? -1 : 1;
  return a.councilCode < b.councilCode ? -1 : a.councilCode > b.councilCode ? 1 : 0;
}

export type PlanChange = 'PLAN_CREATED' | 'PLAN_UPDATED' | 'PLAN_ENDED' | 'UNCHANGED';

/** Classifies a write against the stored plan: what the audit trail should call it. */
export function classifyPlanChange(previous: PlanDates | undefined, next: PlanDates): PlanChange {
  if (!previous) return 'PLAN_CREATED';
  if (previous.startDate === next.startDate && previous.endDate === next.endDate) return 'UNCHANGED';
  if (previous.endDate === null && next.endDate !== null) return 'PLAN_ENDED';
  return 'PLAN_UPDATED';
}

/**
 * Where a superseded number's plan meets a plan of the same type and council on the new number:
 * the earliest start; open if either is open, else the later end date.
 */
export function mergePlanDates(a: PlanDates, b: PlanDates): PlanDates {
  const [startDate] = [a.startDate, b.startDate].sort() as [string, string];
  if (a.endDate === null || b.endDate === null) return { startDate, endDate: null };
  const [, endDate] = [a.endDate, b.endDate].sort() as [string, string];
  return { startDate, endDate };
}
