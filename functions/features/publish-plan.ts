import { clock } from '../core/clock';
import { todayUtc } from '../core/dates';
import { invalidInput, WriteConflict } from '../core/errors';
import { classifyPlanChange, type PlanType } from '../core/plans';
import { versionMatches } from '../core/versions';
import type { AuditEntry, Store, StoredPlan } from '../store';
import type { Actor } from './actor';
import { withWriteRetry } from './write-retry';

/** Concurrent writers without If-Match read again and retry this many times in all before a conflict. */
const PUBLISH_ATTEMPTS = 3;

export interface PublishPlan {
  councilCode: string;
  nhsNumber: string;
  planType: PlanType;
  startDate: string;
  endDate: string | null;
  /** The version the caller last read (If-Match), when the write is conditional. */
  ifMatch?: readonly string[];
  actor: Actor;
}

/** Publishes, updates or ends a plan; the stored plan and whether it was created. */
export async function publishPlan(
  store: Store,
  request: PublishPlan,
): Promise<{ plan: StoredPlan; created: boolean }> {
  const { councilCode, nhsNumber, planType } = request;
  if (request.startDate > todayUtc(clock.now()))
    throw invalidInput('startDate must not be in the future', 'startDate');
  const next = { startDate: request.startDate, endDate: request.endDate };
  try {
    return await writeDecided(store, request, next);
  } catch (error) {
    // A write refused for the number's state is itself audited: probing which numbers are flagged or
    // superseded leaves a trace.
    if (error instanceof WriteConflict && (error.reason === 'SUPERSEDED' || error.reason === 'SENSITIVE')) {
      await store.audit.append(refusal(request, nhsNumber, planType, councilCode));
    }
    throw error;
  }
}

/** The audit event of a plan write refused for its number's state (superseded or sensitive). */
export function refusal(
  request: { actor: Actor },
  nhsNumber: string,
  planType: PlanType,
  councilCode: string,
): AuditEntry {
  return {
    subject: nhsNumber,
    action: 'PLAN_REFUSED',
    outcome: 'DENIED',
    actor: request.actor,
    at: clock.now().toISOString(),
    planType,
    councilCode,
  };
}

async function writeDecided(
  store: Store,
  request: PublishPlan,
  next: { startDate: string; endDate: string | null },
): Promise<{ plan: StoredPlan; created: boolean }> {
  const { councilCode, nhsNumber, planType, ifMatch } = request;
  return withWriteRetry(
    async () => {
      const context = await store.plans.readWriteContext(councilCode, nhsNumber, planType);
      if (!context.councilRegistered)
        throw new WriteConflict('COUNCIL_NOT_REGISTERED', undefined, councilCode);
      if (context.supersededBy) throw new WriteConflict('SUPERSEDED', context.supersededBy);
      // Sensitivity stops new pointers; a council can still update or end a plan it already holds.
      if (context.sensitive && !context.plan) throw new WriteConflict('SENSITIVE');
      if (!versionMatches(ifMatch, context.plan?.version)) throw new WriteConflict('VERSION');

      const change = classifyPlanChange(context.plan, next);
      if (change === 'UNCHANGED' && context.plan) return { plan: context.plan, created: false };
      const plan: StoredPlan = {
        nhsNumber,
        planType,
        councilCode,
        ...next,
        version: (context.plan?.version ?? 0) + 1,
      };
      await store.plans.write(plan, context.plan?.version, {
        subject: nhsNumber,
        action: change === 'UNCHANGED' ? 'PLAN_UPDATED' : change,
        outcome: 'SUCCESS',
        actor: request.actor,
        // Taken per attempt: a retry after losing a race is audited after the write it lost to.
        at: clock.now().toISOString(),
        planType,
        councilCode,
      });
      return { plan, created: change === 'PLAN_CREATED' };
    },
    {
      attempts: PUBLISH_ATTEMPTS,
      retryable: (conflict) => conflict.reason === 'VERSION' && ifMatch === undefined,
    },
  );
}
