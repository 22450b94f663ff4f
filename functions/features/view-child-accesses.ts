/**
 * A council reads a child's recent accesses: the very list a clinician's lookup shows, for a child it
 * holds a visible plan for. Audited (COUNCIL_VIEWED_ACCESSES); notifies nobody and is no access itself.
 */
import { clock } from '../core/clock';
import { todayUtc } from '../core/dates';
import { isValidNhsNumber } from '../core/nhs-number';
import { isPlanVisible } from '../core/plans';
import type { ChildAccesses } from '../core/schemas';
import type { ChildView, Store } from '../store';
import type { Actor } from './actor';
import { auditSubjects, readFollowingSupersession } from './look-up-child';

export const noVisiblePlan = (councilCode: string) =>
  `Council ${councilCode} holds no visible plan for this child: a council sees the accesses of its own children only`;

const holdsVisiblePlan = (view: ChildView, councilCode: string, today: string) =>
  view.plans.some((plan) => plan.councilCode === councilCode && isPlanVisible(plan, today));

/**
 * Why the council may not read this child's accesses, or undefined when it may. Through a superseded
 * number it is the replacement's plans that count, as for a lookup. A malformed NHS number is left to
 * the input checks (400): no council holds a plan for it.
 */
export async function accessesRefusal(
  store: Store,
  councilCode: string,
  requested: string,
): Promise<string | undefined> {
  if (!isValidNhsNumber(requested)) return undefined;
  const { view } = await readFollowingSupersession(store, requested);
  return holdsVisiblePlan(view, councilCode, todayUtc(clock.now())) ? undefined : noVisiblePlan(councilCode);
}

/**
 * The child's recent accesses, or undefined if the council (no longer) holds a visible plan for it.
 * Checked again here, on the plans this read sees, so that nothing is shown on a stale check.
 */
export async function viewChildAccesses(
  store: Store,
  councilCode: string,
  requested: string,
  actor: Actor,
): Promise<ChildAccesses | undefined> {
  const now = clock.now();
  const { nhsNumber, view } = await readFollowingSupersession(store, requested);
  if (!holdsVisiblePlan(view, councilCode, todayUtc(now))) return undefined;
  // The same reading a lookup makes, accesses carried over from replaced numbers included.
  const previousAccesses = await store.audit.readAccesses(nhsNumber);
  await store.audit.appendAll(
    auditSubjects(requested, nhsNumber).map((subject) => ({
      subject,
      action: 'COUNCIL_VIEWED_ACCESSES' as const,
      outcome: 'FOUND' as const,
      actor,
      at: now.toISOString(),
      councilCode,
    })),
  );
  return {
    nhsNumber: requested,
    ...(nhsNumber !== requested ? { supersededBy: nhsNumber } : {}),
    previousAccesses,
  };
}
