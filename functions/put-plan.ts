import { clock } from './core/clock';
import { todayUtc } from './core/dates';
import { classifyPlanChange, type PlanType } from './core/plans';
import type { Plan, PlanBody } from './core/schemas';
import { type ApiResponse, apiHandler } from './http/api-handler';
import { apiErrors } from './http/errors';
import { ifMatchHolds, parseIfMatch } from './http/if-match';
import { planConflict } from './http/plan-conflicts';
import { readPlanWriteContext, type StoredPlan, WriteConflict, writePlan } from './store/table';

/** Concurrent writers without If-Match re-read and try again this many times before answering 409. */
const MAX_ATTEMPTS = 3;

export function planResponse(plan: StoredPlan, status: number): ApiResponse {
  const body: Plan = {
    nhsNumber: plan.nhsNumber,
    planType: plan.planType,
    councilCode: plan.councilCode,
    startDate: plan.startDate,
    endDate: plan.endDate,
    version: String(plan.version),
  };
  return { status, body, headers: { ETag: `"${plan.version}"` } };
}

export const handler = apiHandler<PlanBody>('put-plan', async ({ params, body, claims, headers }) => {
  const councilCode = params.councilCode as string;
  const nhsNumber = params.nhsNumber as string;
  const planType = params.planType as PlanType;
  const now = clock.now();
  if (body.startDate > todayUtc(now)) {
    throw apiErrors.validation('startDate must not be in the future', [
      { field: 'startDate', message: 'startDate must not be in the future' },
    ]);
  }
  const ifMatch = parseIfMatch(headers['if-match']);
  const next = { startDate: body.startDate, endDate: body.endDate ?? null };

  for (let attempt = 1; ; attempt++) {
    const context = await readPlanWriteContext(councilCode, nhsNumber, planType);
    if (!context.councilRegistered)
      throw planConflict(new WriteConflict('COUNCIL_NOT_REGISTERED'), councilCode);
    if (context.supersededBy)
      throw planConflict(new WriteConflict('SUPERSEDED', context.supersededBy), councilCode);
    // Sensitivity stops new pointers; a council can still update or end a plan it already holds.
    if (context.sensitive && !context.plan) throw planConflict(new WriteConflict('SENSITIVE'), councilCode);
    if (!ifMatchHolds(ifMatch, context.plan?.version))
      throw planConflict(new WriteConflict('VERSION'), councilCode);

    const change = classifyPlanChange(context.plan, next);
    if (change === 'UNCHANGED' && context.plan) return planResponse(context.plan, 200);
    const plan: StoredPlan = {
      nhsNumber,
      planType,
      councilCode,
      ...next,
      version: (context.plan?.version ?? 0) + 1,
    };
    try {
      await writePlan(plan, context.plan?.version, {
        subject: nhsNumber,
        action: change === 'UNCHANGED' ? 'PLAN_UPDATED' : change,
        outcome: 'SUCCESS',
        actor: claims,
        // Taken per attempt: a retry after losing a race is audited after the write it lost to.
        at: clock.now().toISOString(),
        planType,
        councilCode,
      });
      return planResponse(plan, change === 'PLAN_CREATED' ? 201 : 200);
    } catch (error) {
      if (!(error instanceof WriteConflict)) throw error;
      const retry = error.reason === 'VERSION' && ifMatch === undefined && attempt < MAX_ATTEMPTS;
      if (!retry) throw planConflict(error, councilCode);
    }
  }
});
