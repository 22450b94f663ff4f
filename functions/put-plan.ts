import { routeHandler, store } from './api-wiring';
import type { PlanType } from './core/plans';
import type { Plan, PlanBody } from './core/schemas';
import { publishPlan } from './features/publish-plan';
import type { ApiResponse } from './http/api-handler';
import { parseIfMatch } from './http/if-match';
import type { StoredPlan } from './store';

/** A plan as the API answers it, with its version as the ETag. */
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

export const handler = routeHandler<PlanBody>('put-plan', async ({ params, body, claims, headers }) => {
  const { plan, created } = await publishPlan(store(), {
    councilCode: params.councilCode as string,
    nhsNumber: params.nhsNumber as string,
    planType: params.planType as PlanType,
    startDate: body.startDate,
    endDate: body.endDate ?? null,
    ifMatch: parseIfMatch(headers['if-match']),
    actor: claims,
  });
  return planResponse(plan, created ? 201 : 200);
});
