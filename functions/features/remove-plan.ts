import { clock } from '../core/clock';
import { RuleViolation, WriteConflict } from '../core/errors';
import type { PlanType } from '../core/plans';
import { versionMatches } from '../core/versions';
import type { Store } from '../store';
import type { Actor } from './actor';
import { withWriteRetry } from './write-retry';

const REMOVE_ATTEMPTS = 3;

export interface RemovePlan {
  councilCode: string;
  nhsNumber: string;
  planType: PlanType;
  ifMatch?: readonly string[];
  actor: Actor;
}

/** Removes a plan entered in error; the audit trail keeps its history. */
export async function removePlan(store: Store, request: RemovePlan): Promise<void> {
  const { councilCode, nhsNumber, planType, ifMatch } = request;
  await withWriteRetry(
    async () => {
      const { plan } = await store.plans.readWriteContext(councilCode, nhsNumber, planType);
      if (!plan)
        throw new RuleViolation(
          'NOT_FOUND',
          `Council ${councilCode} holds no ${planType} plan for this NHS number`,
        );
      if (!versionMatches(ifMatch, plan.version)) throw new WriteConflict('VERSION');
      await store.plans.delete(plan, {
        subject: nhsNumber,
        action: 'PLAN_DELETED',
        outcome: 'SUCCESS',
        actor: request.actor,
        at: clock.now().toISOString(),
        planType,
        councilCode,
      });
    },
    {
      attempts: REMOVE_ATTEMPTS,
      retryable: () => ifMatch === undefined,
      giveUp: () => new WriteConflict('VERSION'),
    },
  );
}
