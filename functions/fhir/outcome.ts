/**
 * FHIR errors: OperationOutcome resources with the Spine error codes the contract lists, and the
 * answer of any API error (the local runtime's and the handlers' 401, 403, 404, 429) on a FHIR path.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { ApiError } from '../http/errors';
import { FHIR_BASE_PATH } from '../http/routes';
import { fhirHeaders } from './headers';
import type { OperationOutcome } from './types';

export const SPINE_ERROR_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/England-SpineErrorOrWarningCode';

/** The contract's table: status, issue code and Spine code of each kind of FHIR error. */
export const FHIR_ERRORS = {
  INVALID_SEARCH_DATA: {
    status: 400,
    issue: 'invalid',
    code: 'INVALID_SEARCH_DATA',
    display: 'Invalid search data',
  },
  PRECONDITION_FAILED: {
    status: 400,
    issue: 'invalid',
    code: 'PRECONDITION_FAILED',
    display: 'Precondition failed',
  },
  UNAUTHENTICATED: { status: 401, issue: 'login', code: 'ACCESS_DENIED', display: 'Access denied' },
  FORBIDDEN: { status: 403, issue: 'forbidden', code: 'ACCESS_DENIED', display: 'Access denied' },
  NOT_FOUND: { status: 404, issue: 'not-found', code: 'INVALID_RESOURCE_ID', display: 'Invalid resource ID' },
  THROTTLED: { status: 429, issue: 'throttled', code: 'TOO_MANY_REQUESTS', display: 'Too many requests' },
  INTERNAL: {
    status: 500,
    issue: 'exception',
    code: 'INTERNAL_SERVER_ERROR',
    display: 'Unexpected internal server error',
  },
} as const;
export type FhirErrorKind = keyof typeof FHIR_ERRORS;

export class FhirError extends Error {
  constructor(
    readonly kind: FhirErrorKind,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'FhirError';
  }
  get status(): number {
    return FHIR_ERRORS[this.kind].status;
  }
}

export function operationOutcome(kind: FhirErrorKind, diagnostics: string): OperationOutcome {
  const error = FHIR_ERRORS[kind];
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'error',
        code: error.issue,
        details: { coding: [{ system: SPINE_ERROR_SYSTEM, code: error.code, display: error.display }] },
        diagnostics,
      },
    ],
  };
}

/** The FHIR error for an API error of the shared HTTP layer (the REST contract's codes). */
export function fromApiError(error: ApiError): FhirError {
  switch (error.code) {
    case 'UNAUTHENTICATED':
      return new FhirError('UNAUTHENTICATED', error.message, error.headers);
    case 'FORBIDDEN':
      return new FhirError('FORBIDDEN', error.message, error.headers);
    case 'THROTTLED':
      return new FhirError('THROTTLED', error.message, error.headers);
    case 'NOT_FOUND':
    case 'METHOD_NOT_ALLOWED':
      // The interface has no other resources or interactions: any other path or method is unknown.
      return new FhirError(
        'NOT_FOUND',
        'This FHIR server answers GET metadata, CareTeam and AuditEvent only',
      );
    case 'INTERNAL':
      return new FhirError('INTERNAL', error.message);
    default:
      return new FhirError('INVALID_SEARCH_DATA', error.message);
  }
}

export const isFhirPath = (path: string): boolean =>
  path === FHIR_BASE_PATH || path.startsWith(`${FHIR_BASE_PATH}/`);

export function fhirErrorResult(
  error: FhirError,
  requestId: string,
  correlationId?: string,
): APIGatewayProxyResult {
  return {
    statusCode: error.status,
    headers: { ...fhirHeaders(requestId, correlationId), ...error.headers },
    body: JSON.stringify(operationOutcome(error.kind, error.message)),
  };
}
