import type { APIGatewayProxyResult } from 'aws-lambda';
import type * as z from 'zod/mini';
import type { ErrorBody, ErrorCode } from '../core/schemas';

export interface ErrorDetail {
  field: string;
  message: string;
}

/** An error the API answers with its documented status, code and a message a person can act on. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const UNAUTHENTICATED_MESSAGE =
  'A valid bearer token is required: it is missing, malformed, expired, or not issued for this service';

export const apiErrors = {
  validation: (message: string, details?: ErrorDetail[]) =>
    new ApiError(400, 'VALIDATION_FAILED', message, details),
  invalidNhsNumber: (field = 'nhsNumber') =>
    new ApiError(400, 'INVALID_NHS_NUMBER', `${field} must be 10 digits with a valid check digit`),
  unauthenticated: () => new ApiError(401, 'UNAUTHENTICATED', UNAUTHENTICATED_MESSAGE),
  forbidden: (message: string) => new ApiError(403, 'FORBIDDEN', message),
  notFound: (message: string) => new ApiError(404, 'NOT_FOUND', message),
  methodNotAllowed: (allowed: string[]) =>
    new ApiError(405, 'METHOD_NOT_ALLOWED', `This path allows ${allowed.join(', ')}`, undefined, {
      Allow: allowed.join(', '),
    }),
  conflict: (message: string) => new ApiError(409, 'CONFLICT', message),
  snapshotGuard: (message: string) => new ApiError(409, 'SNAPSHOT_GUARD', message),
  sensitive: () =>
    new ApiError(
      409,
      'SENSITIVE_RECORD',
      'The demographics service marks this NHS number as sensitive: plans cannot be published for it',
    ),
  payloadTooLarge: (limitBytes: number) =>
    new ApiError(413, 'PAYLOAD_TOO_LARGE', `The request body must be at most ${limitBytes} bytes`),
  /** An upload of more records than one request may hold (the message names both counts). */
  tooManyRecords: (message: string) => new ApiError(413, 'PAYLOAD_TOO_LARGE', message),
  unsupportedMediaType: (accepted: string[]) =>
    new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', `Send the body as ${accepted.join(' or ')}`),
  throttled: (retryAfterSeconds: number) =>
    new ApiError(
      429,
      'THROTTLED',
      `Too many requests: try again in ${retryAfterSeconds} seconds`,
      undefined,
      {
        'Retry-After': String(retryAfterSeconds),
      },
    ),
  internal: () =>
    new ApiError(500, 'INTERNAL', 'Something went wrong on our side; the request can be retried'),
};

/** Turns schema issues into one VALIDATION_FAILED error naming the first problem, with all in details. */
export function fromSchemaIssues(issues: z.core.$ZodIssue[], where?: string): ApiError {
  const details = issues.map((issue) => {
    const field = issue.path.join('.') || where || 'body';
    if (issue.code === 'unrecognized_keys') {
      const names = issue.keys.map((key) => `"${key}"`).join(', ');
      return { field, message: `unknown field ${names}: remove it` };
    }
    if (issue.code === 'invalid_type' && issue.input === undefined) {
      return { field, message: `${field} is required` };
    }
    return { field, message: issue.message };
  });
  return apiErrors.validation(details[0]?.message ?? 'The request is not valid', details);
}

export function baseHeaders(requestId: string): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
    'X-Request-Id': requestId,
    'X-Content-Type-Options': 'nosniff',
  };
}

export function errorResult(error: ApiError, requestId: string): APIGatewayProxyResult {
  const body: ErrorBody = {
    error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) },
  };
  return {
    statusCode: error.status,
    headers: { ...baseHeaders(requestId), ...error.headers },
    body: JSON.stringify(body),
  };
}
