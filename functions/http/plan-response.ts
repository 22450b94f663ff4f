import type { Plan } from '../core/schemas';
import type { StoredPlan } from '../store';
import type { ApiResponse } from './api-handler';

/** A plan as the API answers it (a write, or a council reading it back), with its version as the ETag. */
export function planBody(plan: StoredPlan): Plan {
  return {
    nhsNumber: plan.nhsNumber,
    planType: plan.planType,
    councilCode: plan.councilCode,
    startDate: plan.startDate,
    endDate: plan.endDate,
    version: String(plan.version),
  };
}

export function planResponse(plan: StoredPlan, status: number): ApiResponse {
  return { status, body: planBody(plan), headers: { ETag: `"${plan.version}"` } };
}
