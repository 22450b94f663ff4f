import { routeHandler, store } from './api-wiring';
import { supersede, supersessionRefusal } from './features/supersede';

export const handler = routeHandler(
  'supersede',
  async ({ params, claims }) => ({
    status: 200,
    body: await supersede(store(), params.oldNhsNumber as string, params.newNhsNumber as string, claims),
  }),
  { authorize: (claims, params) => supersessionRefusal(store(), claims, params.oldNhsNumber as string) },
);
