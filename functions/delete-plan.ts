import { routeHandler, store } from './api-wiring';
import type { PlanType } from './core/plans';
import { removePlan } from './features/remove-plan';
import { parseIfMatch } from './http/if-match';

export const handler = routeHandler('delete-plan', async ({ params, claims, headers }) => {
  await removePlan(store(), {
    councilCode: params.councilCode as string,
    nhsNumber: params.nhsNumber as string,
    planType: params.planType as PlanType,
    ifMatch: parseIfMatch(headers['if-match']),
    actor: claims,
  });
  return { status: 204 };
});
