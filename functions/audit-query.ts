import { routeHandler, store } from './api-wiring';
import { readAuditPage } from './features/read-audit';
import { keys } from './store/keys';

export const handler = routeHandler<undefined, { limit?: number; cursor?: string }>(
  'audit-query',
  async ({ params, query }) => ({
    status: 200,
    // A child's trail by NHS number, or a council's (its registration and changes) by its code.
    body: await readAuditPage(
      store(),
      params.nhsNumber ?? keys.council(params.councilCode as string),
      query.limit,
      query.cursor,
    ),
  }),
);
