import type { WriteConflict } from '../store/table';
import { type ApiError, apiErrors } from './errors';

/** The documented answer to a plan write refused by the state of the table. */
export function planConflict(conflict: WriteConflict, councilCode: string): ApiError {
  switch (conflict.reason) {
    case 'COUNCIL_NOT_REGISTERED':
      return apiErrors.conflict(
        `Council ${councilCode} is not registered: register it with PUT /v1/councils/${councilCode} first`,
      );
    case 'SUPERSEDED':
      return apiErrors.conflict(
        `This NHS number has been superseded by ${conflict.supersededBy}: publish the plan against ${conflict.supersededBy}`,
      );
    case 'SENSITIVE':
      return apiErrors.sensitive();
    case 'NOT_FOUND':
      return apiErrors.notFound('There is no such plan');
    case 'VERSION':
      return apiErrors.conflict(
        'The plan has changed since that version: read it again and retry with the new ETag',
      );
  }
}
