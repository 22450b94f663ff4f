import { routeHandler, store } from './api-wiring';
import type { CouncilBody } from './core/schemas';
import { environments, readEnvironment } from './environment';
import { registerCouncil, registrationRefusal } from './features/register-council';

const { STAGE_COUNCIL_CODES } = readEnvironment(environments.registerCouncil);
/** Deployed: every council of the stage, in whichever region it is homed. Locally unset. */
const stageCouncils =
  STAGE_COUNCIL_CODES === undefined ? undefined : new Set<string>(JSON.parse(STAGE_COUNCIL_CODES));

export const handler = routeHandler<CouncilBody>(
  'register-council',
  async ({ params, body, claims }) => ({
    status: 200,
    body: await registerCouncil(
      store(),
      {
        code: params.councilCode as string,
        name: body.name,
        officeHoursPhone: body.officeHoursPhone ?? null,
        emergencyDutyPhone: body.emergencyDutyPhone,
      },
      claims,
    ),
  }),
  { authorize: async (_claims, params) => registrationRefusal(stageCouncils, params.councilCode as string) },
);
