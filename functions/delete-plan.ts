import { clock } from './core/clock';
import type { PlanType } from './core/plans';
import { apiHandler } from './http/api-handler';
import { apiErrors } from './http/errors';
import { ifMatchHolds, parseIfMatch } from './http/if-match';
import { planConflict } from './http/plan-conflicts';
import { deletePlan, readPlanWriteContext, WriteConflict } from './store/table';

const MAX_ATTEMPTS = 3;

export const handler = apiHandler('delete-plan', async ({ params, claims, headers }) => {
  const councilCode = params.councilCode as string;
  const nhsNumber = params.nhsNumber as string;
  const planType = params.planType as PlanType;
  const ifMatch = parseIfMatch(headers['if-match']);
  for (let attempt = 1; ; attempt++) {
    const { plan } = await readPlanWriteContext(councilCode, nhsNumber, planType);
    if (!plan)
      throw apiErrors.notFound(`Council ${councilCode} holds no ${planType} plan for this NHS number`);
    if (!ifMatchHolds(ifMatch, plan.version)) throw planConflict(new WriteConflict('VERSION'), councilCode);
    try {
      await deletePlan(plan, {
        subject: nhsNumber,
        action: 'PLAN_DELETED',
        outcome: 'SUCCESS',
        actor: claims,
        at: clock.now().toISOString(),
        planType,
        councilCode,
      });
      return { status: 204 };
    } catch (error) {
      if (!(error instanceof WriteConflict)) throw error;
      if (ifMatch !== undefined || attempt >= MAX_ATTEMPTS)
        throw planConflict(new WriteConflict('VERSION'), councilCode);
    }
  }
});
