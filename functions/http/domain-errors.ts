/** The contract's answer to each domain error. */
import { RuleViolation, WriteConflict } from '../core/errors';
import { UploadShapeError } from '../features/upload-plans';
import { type ApiError, apiErrors, fromSchemaIssues } from './errors';

/** The documented answer to a write refused by the state of the table. */
export function writeConflictError(conflict: WriteConflict): ApiError {
  switch (conflict.reason) {
    case 'COUNCIL_NOT_REGISTERED': {
      const code = conflict.councilCode ?? 'the council';
      return apiErrors.conflict(
        `Council ${code} is not registered: register it with PUT /v1/councils/${code} first`,
      );
    }
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

/** The API error for a domain error, or undefined for anything else (an internal failure). */
export function fromDomainError(error: unknown): ApiError | undefined {
  if (error instanceof WriteConflict) return writeConflictError(error);
  if (error instanceof UploadShapeError)
    return fromSchemaIssues(error.issues as Parameters<typeof fromSchemaIssues>[0]);
  if (!(error instanceof RuleViolation)) return undefined;
  switch (error.kind) {
    case 'INVALID_INPUT':
      return apiErrors.validation(error.message, error.details);
    case 'CONFLICT':
      return apiErrors.conflict(error.message);
    case 'NOT_FOUND':
      return apiErrors.notFound(error.message);
    case 'SNAPSHOT_GUARD':
      return apiErrors.snapshotGuard(error.message);
    case 'TOO_MANY_RECORDS':
      return apiErrors.tooManyRecords(error.message);
  }
}
