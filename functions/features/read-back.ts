/**
 * A council reads back what it holds: its registration, one plan with its version, and its plans page
 * by page. Reads only: nothing here is audited (the council reads its own data).
 */
import { clock } from '../core/clock';
import { todayUtc } from '../core/dates';
import { invalidInput, RuleViolation } from '../core/errors';
import { isPlanOpen, isPlanVisible, type PlanType } from '../core/plans';
import type { Council, PlanStatus } from '../core/schemas';
import type { Store, StoredPlan } from '../store';
import { isCouncilPlanPosition } from '../store/keys';

export const DEFAULT_PLANS_PAGE = 100;
/**
 * Index items one page may read, whatever its status filter keeps: twice the largest page, so a page of
 * plans that are all kept always fits (docs/adr/0038).
 */
export const PLANS_PAGE_READ_BUDGET = 2000;

export async function readRegistration(store: Store, councilCode: string): Promise<Council> {
  const council = await store.councils.get(councilCode);
  if (!council)
    throw new RuleViolation(
      'NOT_FOUND',
      `Council ${councilCode} is not registered: register it with PUT /v1/councils/${councilCode}`,
    );
  return council;
}

export async function readPlan(
  store: Store,
  councilCode: string,
  nhsNumber: string,
  planType: PlanType,
): Promise<StoredPlan> {
  const plan = await store.plans.readPlan(councilCode, nhsNumber, planType);
  if (!plan)
    throw new RuleViolation(
      'NOT_FOUND',
      `Council ${councilCode} holds no ${planType} plan for this NHS number`,
    );
  return plan;
}

/** Whether a plan has the status asked for, today. */
function statusFilter(status: PlanStatus, today: string): (plan: StoredPlan) => boolean {
  switch (status) {
    case 'open':
      return (plan) => isPlanOpen(plan, today);
    case 'visible':
      return (plan) => isPlanVisible(plan, today);
    case 'all':
      return () => true;
  }
}

// The cursor is a plan's position in the council's index, encoded: decoded, it must be a position
// again, so a tampered cursor is refused (400) and can only ever name a place in the caller's own list.
const encodeCursor = (position: string) => Buffer.from(position, 'utf8').toString('base64url');

function decodeCursor(cursor: string): string {
  const position = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isCouncilPlanPosition(position) || encodeCursor(position) !== cursor)
    throw invalidInput('cursor must be a value returned as nextCursor', 'cursor');
  return position;
}

/** One page of a council's plans with the status asked for, by NHS number then plan type. */
export async function listPlans(
  store: Store,
  councilCode: string,
  query: { status?: PlanStatus; limit?: number; cursor?: string },
): Promise<{ plans: StoredPlan[]; nextCursor: string | null }> {
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const page = await store.plans.pageCouncilPlans(councilCode, {
    limit: query.limit ?? DEFAULT_PLANS_PAGE,
    after,
    keep: statusFilter(query.status ?? 'visible', todayUtc(clock.now())),
    readBudget: PLANS_PAGE_READ_BUDGET,
  });
  return { plans: page.plans, nextCursor: page.next === undefined ? null : encodeCursor(page.next) };
}
