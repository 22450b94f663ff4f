import { invalidInput } from '../core/errors';
import type { AuditEvent } from '../core/schemas';
import type { Store } from '../store';
import { isAuditPosition } from '../store/keys';

export const DEFAULT_AUDIT_PAGE = 50;

const encodeCursor = (position: string) => Buffer.from(position, 'utf8').toString('base64url');

function decodeCursor(cursor: string): string {
  const position = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isAuditPosition(position))
    throw invalidInput('cursor must be a value returned as nextCursor', 'cursor');
  return position;
}

/** One page of a subject's audit trail, newest first; the cursor is opaque to callers. */
export async function readAuditPage(
  store: Store,
  subject: string,
  limit = DEFAULT_AUDIT_PAGE,
  cursor?: string,
): Promise<{ events: AuditEvent[]; nextCursor: string | null }> {
  const page = await store.audit.page(
    subject,
    limit,
    cursor === undefined ? undefined : decodeCursor(cursor),
  );
  return { events: page.events, nextCursor: page.lastKey ? encodeCursor(page.lastKey) : null };
}
