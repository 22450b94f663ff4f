import { clock } from './core/clock';
import type { SensitivityBody } from './core/schemas';
import { apiHandler } from './http/api-handler';
import { setSensitivity } from './store/table';

export const handler = apiHandler<SensitivityBody>('sensitivity', async ({ params, body, claims }) => {
  const nhsNumber = params.nhsNumber as string;
  await setSensitivity(nhsNumber, body.sensitive, {
    subject: nhsNumber,
    action: 'SENSITIVITY_CHANGED',
    outcome: 'SUCCESS',
    actor: claims,
    at: clock.now().toISOString(),
  });
  return { status: 200, body: { nhsNumber, sensitive: body.sensitive } };
});
