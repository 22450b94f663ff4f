import { clock } from '../core/clock';
import { invalidInput, RuleViolation } from '../core/errors';
import { mergePlanDates } from '../core/plans';
import type { CouncilMessage } from '../core/schemas';
import type { Store, StoredPlan } from '../store';
import { newId } from '../store/ids';
import { MAX_TRANSACTION_ITEMS } from '../store/transactions';
import type { Actor } from './actor';
import { withWriteRetry } from './write-retry';

/** Passes that lose a race with another writer, in all, before the change is refused. */
const SUPERSESSION_ATTEMPTS = 3;
/** A pass's items besides its plans' (two each) and carried accesses: two status items, two audits. */
const PASS_OVERHEAD_ITEMS = 4;

/**
 * Moves every plan of a superseded NHS number to its replacement (merging with a plan of the same
 * council and type there), marks the old number, and tells each council holding a moved plan once.
 * Any number of plans: each pass is a transaction of what fits, the first marking the old number;
 * later passes move the rest under that mark, so a request repeated after a crash resumes.
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
        const firstPass = !alreadyMarked;
        // A council's plans move in the same pass as its message, so a pass that fails, or a request
        // repeated after a crash, never tells a council twice.
        const byCouncil = new Map<string, StoredPlan[]>();
        for (const plan of oldView.plans)
          byCouncil.set(plan.councilCode, [...(byCouncil.get(plan.councilCode) ?? []), plan]);
        const carriedAccesses = firstPass ? await store.audit.recentAccessItems(oldNhsNumber) : [];
        let room = Math.floor((MAX_TRANSACTION_ITEMS - PASS_OVERHEAD_ITEMS - carriedAccesses.length) / 2);
        const councils: string[] = [];
        const moving: StoredPlan[] = [];
        for (const [councilCode, plans] of [...byCouncil].sort(([a], [b]) => (a < b ? -1 : 1))) {
          if (plans.length > room) break;
          room -= plans.length;
          councils.push(councilCode);
          moving.push(...plans);
        }
        const moves = moving.map((from) => {
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
        const messages: CouncilMessage[] = councils
          .filter((councilCode) => !notified.has(councilCode))
          .map((councilCode) => ({
            type: 'NhsNumberSuperseded',
            eventId: newId(),
            occurredAt: at,
            councilCode,
            oldNhsNumber,
            newNhsNumber,
          }));
        const audit = { action: 'NHS_NUMBER_SUPERSEDED' as const, outcome: 'SUCCESS' as const, actor, at };
        // The change is audited under both numbers once; a later pass adds an event only to carry messages.
        const audits = firstPass
          ? [
              { ...audit, subject: oldNhsNumber },
              { ...audit, subject: newNhsNumber },
            ]
          : messages.length > 0
            ? [{ ...audit, subject: newNhsNumber }]
            : [];
        await store.supersessions.record({
          oldNhsNumber,
          newNhsNumber,
          at,
          moves,
          oldReplaces: oldView.replaces,
          audits,
          messages,
          alreadyMarked,
          carriedAccesses,
        });
        movedPlans += moves.length;
        for (const message of messages) notified.add(message.councilCode);
      }
    },
    {
      attempts: SUPERSESSION_ATTEMPTS,
      giveUp: () =>
        new RuleViolation('CONFLICT', 'These NHS numbers changed while the request ran: send it again'),
    },
  );
}
