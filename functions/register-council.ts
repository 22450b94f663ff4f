import { clock } from './core/clock';
import type { Council, CouncilBody } from './core/schemas';
import { apiHandler } from './http/api-handler';
import { stageCouncilCodes } from './notify/stage-councils';
import { putCouncil } from './store/table';

/**
 * Deployed, only a council the stage config gives a queue (in some region) may register: a registered
 * council can publish plans, and lookups then notify it, so it must have somewhere to be notified.
 */
async function hasQueue(_claims: unknown, params: Record<string, string>): Promise<string | undefined> {
  const stage = stageCouncilCodes();
  if (!stage || stage.has(params.councilCode as string)) return undefined;
  return `Council ${params.councilCode} is not set up in this deployment (it has no notification queue): ask the service's operations team to add it to the stage configuration`;
}

export const handler = apiHandler<CouncilBody>(
  'register-council',
  async ({ params, body, claims }) => {
    const council: Council = {
      code: params.councilCode as string,
      name: body.name,
      officeHoursPhone: body.officeHoursPhone ?? null,
      emergencyDutyPhone: body.emergencyDutyPhone,
    };
    await putCouncil(council, {
      action: 'COUNCIL_UPDATED',
      outcome: 'SUCCESS',
      actor: claims,
      at: clock.now().toISOString(),
      councilCode: council.code,
    });
    return { status: 200, body: council };
  },
  { authorize: hasQueue },
);
