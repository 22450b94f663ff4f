import { apiHandler } from './http/api-handler';
import { apiErrors } from './http/errors';
import { isAuditPosition, queryAudit } from './store/table';

const DEFAULT_LIMIT = 50;

const encodeCursor = (position: string) => Buffer.from(position, 'utf8').toString('base64url');

function decodeCursor(cursor: string): string {
  const position = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isAuditPosition(position)) {
    throw apiErrors.validation('cursor must be a value returned as nextCursor', [
      { field: 'cursor', message: 'cursor must be a value returned as nextCursor' },
    ]);
  }
  return position;
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
