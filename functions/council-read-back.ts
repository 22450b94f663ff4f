import { routeHandler, store } from './api-wiring';
import type { PlanType } from './core/plans';
import type { PlanStatus } from './core/schemas';
import { listPlans, readPlan, readRegistration } from './features/read-back';
import { planBody, planResponse } from './http/plan-response';

/** A council reads back its registration, one plan (with its ETag), or its plans page by page. */
export const handler = routeHandler<undefined, { status?: PlanStatus; limit?: number; cursor?: string }>(
  'council-read-back',
  async ({ params, query, route }) => {
    const councilCode = params.councilCode as string;
    if (route.operation === 'getCouncilPlan')
      return planResponse(
        await readPlan(store(), councilCode, params.nhsNumber as string, params.planType as PlanType),
        200,
      );
    if (route.operation === 'listCouncilPlans') {
      const page = await listPlans(store(), councilCode, query);
      return { status: 200, body: { plans: page.plans.map(planBody), nextCursor: page.nextCursor } };
    }
    return { status: 200, body: await readRegistration(store(), councilCode) };
  },
);
