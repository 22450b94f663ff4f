import { routeHandler, store } from './api-wiring';
import { lookUpChild } from './features/look-up-child';

export const handler = routeHandler('lookup', async ({ params, claims }) => ({
  status: 200,
  body: await lookUpChild(store(), params.nhsNumber as string, claims),
}));
