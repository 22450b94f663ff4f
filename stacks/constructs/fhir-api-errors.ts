/**
 * The FHIR API's own gateway responses: every error API Gateway answers there itself (a refused or
 * missing token, throttling, a WAF block...) is an OperationOutcome with the Spine error codes, in
 * `application/fhir+json`. Gateway responses are per REST API and their templates are not VTL (they
 * cannot branch on the path), hence a REST API of its own for the FHIR paths (docs/adr/0035).
 */
import { ResponseType, type RestApi } from 'aws-cdk-lib/aws-apigateway';
import { type FhirErrorKind, operationOutcome } from '../../functions/fhir/outcome';

interface FhirGatewayError {
  types: ResponseType[];
  kind: FhirErrorKind;
  message: string;
  /** Omitted: keep API Gateway's own status (502 or 504 for integration failures). */
  keepStatus?: boolean;
  headers?: Record<string, string>;
}

export const FHIR_GATEWAY_ERRORS: readonly FhirGatewayError[] = [
  {
    types: [
      ResponseType.UNAUTHORIZED,
      ResponseType.ACCESS_DENIED,
      ResponseType.EXPIRED_TOKEN,
      ResponseType.INVALID_SIGNATURE,
    ],
    kind: 'UNAUTHENTICATED',
    message: 'A valid bearer token is required',
  },
  {
    // Every FHIR path has a method (the catch-all included): this arises only outside /FHIR/R4.
    types: [ResponseType.MISSING_AUTHENTICATION_TOKEN, ResponseType.RESOURCE_NOT_FOUND],
    kind: 'NOT_FOUND',
    message: 'This FHIR server answers GET metadata, CareTeam and AuditEvent only',
  },
  {
    types: [ResponseType.THROTTLED, ResponseType.QUOTA_EXCEEDED],
    kind: 'THROTTLED',
    message: 'Too many requests: try again in 1 seconds',
    headers: { 'Retry-After': "'1'" },
  },
  {
    types: [ResponseType.WAF_FILTERED],
    kind: 'FORBIDDEN',
    message: 'The request was refused by the web application firewall',
  },
  {
    types: [ResponseType.DEFAULT_4XX],
    kind: 'INVALID_SEARCH_DATA',
    message: 'The request could not be accepted',
  },
  {
    types: [ResponseType.DEFAULT_5XX],
    kind: 'INTERNAL',
    message: 'Something went wrong on our side; the request can be retried',
    keepStatus: true,
  },
];

const STATUS: Record<FhirErrorKind, string> = {
  INVALID_SEARCH_DATA: '400',
  PRECONDITION_FAILED: '400',
  UNAUTHENTICATED: '401',
  FORBIDDEN: '403',
  NOT_FOUND: '404',
  THROTTLED: '429',
  INTERNAL: '500',
};

const FHIR_HEADERS = {
  'Content-Type': "'application/fhir+json'",
  'Cache-Control': "'no-store'",
  'X-Request-Id': 'context.requestId',
  'X-Content-Type-Options': "'nosniff'",
  'X-Correlation-ID': 'method.request.header.X-Correlation-ID',
};

export function addFhirGatewayErrors(api: RestApi): void {
  for (const error of FHIR_GATEWAY_ERRORS) {
    for (const type of error.types) {
      api.addGatewayResponse(`Fhir${type.responseType}`, {
        type,
        statusCode: error.keepStatus ? undefined : STATUS[error.kind],
        responseHeaders: { ...FHIR_HEADERS, ...error.headers },
        templates: { 'application/json': JSON.stringify(operationOutcome(error.kind, error.message)) },
      });
    }
  }
}
