import { routeHandler, store } from './api-wiring';
import type { SensitivityBody } from './core/schemas';
import { setSensitivity } from './features/set-sensitivity';

export const handler = routeHandler<SensitivityBody>('sensitivity', async ({ params, body, claims }) => ({
  status: 200,
  body: await setSensitivity(store(), params.nhsNumber as string, body.sensitive, claims),
}));
