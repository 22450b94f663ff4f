import { routeHandler, store } from './api-wiring';
import { checkAlert } from './features/check-alert';
import { lookUpChild } from './features/look-up-child';

// One function serves the lookup and its presence check (operation checkAlert): the same table access.
export const handler = routeHandler('lookup', async ({ params, claims, route }) => ({
  status: 200,
  body:
    route.operation === 'checkAlert'
      ? await checkAlert(store(), params.nhsNumber as string, claims)
      : await lookUpChild(store(), params.nhsNumber as string, claims),
}));
