import { apiHandler } from './http/api-handler';
import { apiErrors } from './http/errors';
import { isAuditSortKey, queryAudit } from './store/table';

const DEFAULT_LIMIT = 50;

const encodeCursor = (sortKey: string) => Buffer.from(sortKey, 'utf8').toString('base64url');

function decodeCursor(cursor: string): string {
  const sortKey = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isAuditSortKey(sortKey)) {
    throw apiErrors.validation('cursor must be a value returned as nextCursor', [
      { field: 'cursor', message: 'cursor must be a value returned as nextCursor' },
    ]);
  }
  return sortKey;
}

export const handler = apiHandler<undefined, { limit?: number; cursor?: string }>(
  'audit-query',
  async ({ params, query }) => {
    const page = await queryAudit(
      params.nhsNumber as string,
      query.limit ?? DEFAULT_LIMIT,
      query.cursor === undefined ? undefined : decodeCursor(query.cursor),
    );
    return {
      status: 200,
      body: { events: page.events, nextCursor: page.lastKey ? encodeCursor(page.lastKey) : null },
    };
  },
);
