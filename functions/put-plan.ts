import { routeHandler, store } from './api-wiring';
import type { PlanType } from './core/plans';
import type { PlanBody } from './core/schemas';
import { publishPlan } from './features/publish-plan';
import { parseIfMatch } from './http/if-match';
import { planResponse } from './http/plan-response';

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
