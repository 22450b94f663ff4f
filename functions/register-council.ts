import { clock } from './core/clock';
import type { Council, CouncilBody } from './core/schemas';
import { apiHandler } from './http/api-handler';
import { putCouncil } from './store/table';

export const handler = apiHandler<CouncilBody>('register-council', async ({ params, body, claims }) => {
  const council: Council = {
    code: params.councilCode as string,
    name: body.name,
    officeHoursPhone: body.officeHoursPhone ?? null,
    emergencyDutyPhone: body.emergencyDutyPhone,
  };
  await putCouncil(council, {
    subject: `COUNCIL#${council.code}`,
    action: 'COUNCIL_UPDATED',
    outcome: 'SUCCESS',
    actor: claims,
    at: clock.now().toISOString(),
    councilCode: council.code,
  });
  return { status: 200, body: council };
});
