/** The headers of every FHIR answer, and the client's correlation id they echo. */
import { FHIR_MEDIA_TYPE } from './capability-statement';

/** Headers of every FHIR answer: the REST API's own, in FHIR's media type, and the correlation id echoed. */
export function fhirHeaders(requestId: string, correlationId?: string): Record<string, string> {
  return {
    'Content-Type': FHIR_MEDIA_TYPE,
    'Cache-Control': 'no-store',
    'X-Request-Id': requestId,
    'X-Content-Type-Options': 'nosniff',
    ...(correlationId ? { 'X-Correlation-ID': correlationId } : {}),
  };
}

/** A client's X-Correlation-ID, echoed only when it is a plain token (printable ASCII, at most 200). */
export function correlationId(value: string | undefined): string | undefined {
  return value !== undefined && /^[\x21-\x7e]{1,200}$/.test(value) ? value : undefined;
}
