import { routeHandler, store } from './api-wiring';
import { readAuditPage } from './features/read-audit';

export const handler = routeHandler<undefined, { limit?: number; cursor?: string }>(
  'audit-query',
  async ({ params, query }) => ({
    status: 200,
    body: await readAuditPage(store(), params.nhsNumber as string, query.limit, query.cursor),
  }),
);
