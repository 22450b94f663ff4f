import { routeHandler, store } from './api-wiring';
import { supersede } from './features/supersede';

/**
 * Only the demographics service decides that one NHS number replaces another: a wrong merge would show
 * one child's alert on another child (docs/clinical-safety.md), so no council may report one.
 */
export const handler = routeHandler('supersede', async ({ params, claims }) => ({
  status: 200,
  body: await supersede(store(), params.oldNhsNumber as string, params.newNhsNumber as string, claims),
}));
