/**
 * What every API function is built from: its store (made once per cold start from its environment)
 * and the HTTP stack with the store supplied as the place refusals are recorded.
 */
import { environments, readEnvironment } from './environment';
import { recordDenial } from './features/record-denial';
import { type ApiHandlerOptions, type ApiRequest, type ApiResponse, apiHandler } from './http/api-handler';
import type { ApiEntry } from './http/routes';
import { createDocumentClient, createStore, type Store } from './store';

// Checked when the function starts: a missing TABLE_NAME fails the cold start, not a request.
readEnvironment(environments.api);

const client = createDocumentClient();
const stores = new Map<string, Store>();

/**
 * The store of the table this function serves. Deployed that never changes; the local runtime and the
 * tests may run services on several tables in one process, one after another, hence by name.
 */
export function store(): Store {
  const tableName = process.env.TABLE_NAME as string;
  let current = stores.get(tableName);
  if (!current) {
    current = createStore({ client, tableName });
    stores.set(tableName, current);
  }
  return current;
}

/** The Lambda handler of one route entry. */
export function routeHandler<TBody = unknown, TQuery = Record<string, unknown>>(
  entry: ApiEntry,
  handle: (request: ApiRequest<TBody, TQuery>) => Promise<ApiResponse>,
  options: Omit<ApiHandlerOptions, 'recordDenial'> = {},
) {
  return apiHandler(entry, handle, {
    ...options,
    recordDenial: (claims, params) => recordDenial(store(), claims, params),
  });
}
