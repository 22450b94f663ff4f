import { clock } from '../core/clock';
import { invalidInput, RuleViolation } from '../core/errors';
import { mergePlanDates } from '../core/plans';
import type { CouncilMessage } from '../core/schemas';
import type { Store, StoredPlan } from '../store';
import { newId } from '../store/ids';
import type { Actor } from './actor';
import { withWriteRetry } from './write-retry';

/** Passes that lose a race with another writer, in all, before the change is refused. */
const SUPERSESSION_ATTEMPTS = 3;

/**
 * Moves every plan of a superseded NHS number to its replacement (merging with a plan of the same
 * council and type there), marks the old number, and tells each council holding a moved plan once.
 * Reads are consistent: the transaction guards the plans it read, but not one it never saw, so after
 * it commits the old number is read again and any plan written there meanwhile moves under the same mark.
 */
export async function supersede(
  store: Store,
  oldNhsNumber: string,
  newNhsNumber: string,
  actor: Actor,
): Promise<{ oldNhsNumber: string; newNhsNumber: string; movedPlans: number }> {
  if (oldNhsNumber === newNhsNumber)
    throw invalidInput('The new NHS number must differ from the old one', 'newNhsNumber');
  let movedPlans = 0;
  const notified = new Set<string>();
  return withWriteRetry(
    async () => {
      for (;;) {
        const oldView = await store.plans.readChild(oldNhsNumber, { consistent: true });
        const newView = await store.plans.readChild(newNhsNumber, { consistent: true });
        const alreadyMarked = oldView.supersededBy === newNhsNumber;
        if (alreadyMarked && oldView.plans.length === 0) return { oldNhsNumber, newNhsNumber, movedPlans };
        if (oldView.supersededBy && !alreadyMarked) {
          throw new RuleViolation(
            'CONFLICT',
            `${oldNhsNumber} was already superseded by ${oldView.supersededBy}`,
          );
        }
        if (newView.supersededBy) {
          throw new RuleViolation(
            'CONFLICT',
            `${newNhsNumber} has itself been superseded by ${newView.supersededBy}: report the change to ${newView.supersededBy}`,
          );
        }
        const at = clock.now().toISOString();
        const moves = oldView.plans.map((from) => {
          const existing = newView.plans.find(
            (plan) => plan.councilCode === from.councilCode && plan.planType === from.planType,
          );
          const dates = existing
            ? mergePlanDates(existing, from)
            : { startDate: from.startDate, endDate: from.endDate };
          const into: StoredPlan = {
            ...from,
            ...dates,
            nhsNumber: newNhsNumber,
            version: (existing?.version ?? 0) + 1,
          };
          return { from, into, intoVersion: existing?.version };
        });
        // One message per council for the change, however many passes its plans took.
        const councils = [...new Set(oldView.plans.map((plan) => plan.councilCode))]
          .filter((councilCode) => !notified.has(councilCode))
          .sort();
        const messages: CouncilMessage[] = councils.map((councilCode) => ({
          type: 'NhsNumberSuperseded',
          eventId: newId(),
          occurredAt: at,
          councilCode,
          oldNhsNumber,
          newNhsNumber,
        }));
        const audit = { action: 'NHS_NUMBER_SUPERSEDED' as const, outcome: 'SUCCESS' as const, actor, at };
        await store.supersessions.record({
          oldNhsNumber,
          newNhsNumber,
          moves,
          oldReplaces: oldView.replaces,
          audits: [
            { ...audit, subject: oldNhsNumber },
            { ...audit, subject: newNhsNumber },
          ],
          messages,
          alreadyMarked,
        });
        movedPlans += moves.length;
        for (const councilCode of councils) notified.add(councilCode);
      }
    },
    {
      attempts: SUPERSESSION_ATTEMPTS,
      giveUp: () =>
        new RuleViolation('CONFLICT', 'These NHS numbers changed while the request ran: send it again'),
    },
  );
}
