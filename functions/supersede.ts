import { clock } from './core/clock';
import { mergePlanDates } from './core/plans';
import type { Claims, CouncilMessage } from './core/schemas';
import { apiHandler } from './http/api-handler';
import { apiErrors } from './http/errors';
import { newId } from './store/ids';
import { readChild, recordSupersession, type StoredPlan, WriteConflict } from './store/table';

const MAX_ATTEMPTS = 3;

/** A council may report a change only for a number it holds a plan for; the demographics feed for any. */
async function mayReport(claims: Claims, params: Record<string, string>): Promise<string | undefined> {
  if (claims.role !== 'council') return undefined;
  const old = params.oldNhsNumber as string;
  if (!/^\d{10}$/.test(old))
    return 'A council can report a change only for an NHS number it holds a plan for';
  const view = await readChild(old, { consistent: true });
  const holds = view.plans.some((plan) => plan.councilCode === claims.org);
  return holds ? undefined : 'A council can report a change only for an NHS number it holds a plan for';
}

export const handler = apiHandler(
  'supersede',
  async ({ params, claims }) => {
    const oldNhsNumber = params.oldNhsNumber as string;
    const newNhsNumber = params.newNhsNumber as string;
    if (oldNhsNumber === newNhsNumber) {
      throw apiErrors.validation('The new NHS number must differ from the old one', [
        { field: 'newNhsNumber', message: 'must differ from oldNhsNumber' },
      ]);
    }
    let movedPlans = 0;
    const notified = new Set<string>();
    let conflicts = 0;
    // Consistent reads: the transaction guards the plans it read, but not one it never saw. After it
    // commits, the loop reads the old number again: a plan written there after the read and before the
    // mark (none can be written after it) is found and moved under the same mark.
    for (;;) {
      const oldView = await readChild(oldNhsNumber, { consistent: true });
      const newView = await readChild(newNhsNumber, { consistent: true });
      const alreadyMarked = oldView.supersededBy === newNhsNumber;
      if (alreadyMarked && oldView.plans.length === 0) {
        return { status: 200, body: { oldNhsNumber, newNhsNumber, movedPlans } };
      }
      if (oldView.supersededBy && !alreadyMarked) {
        throw apiErrors.conflict(`${oldNhsNumber} was already superseded by ${oldView.supersededBy}`);
      }
      if (newView.supersededBy) {
        throw apiErrors.conflict(
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
      const audit = {
        action: 'NHS_NUMBER_SUPERSEDED' as const,
        outcome: 'SUCCESS' as const,
        actor: claims,
        at,
      };
      try {
        await recordSupersession({
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
      } catch (error) {
        if (!(error instanceof WriteConflict)) throw error;
        if (++conflicts >= MAX_ATTEMPTS)
          throw apiErrors.conflict('These NHS numbers changed while the request ran: send it again');
      }
    }
  },
  { authorize: mayReport },
);
