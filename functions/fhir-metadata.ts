/**
 * The FHIR R4 CapabilityStatement, answered without a token. It is a fixed document that no request
 * can change or fail, so the function loads no middleware, logger or schema: its cold start is its own
 * import (ADR 0057). API Gateway's access log records each request.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { capabilityStatement } from './fhir/capability-statement';
import { correlationId, fhirHeaders } from './fhir/headers';

const body = JSON.stringify(capabilityStatement());

/** A header's value, whatever the case the client sent its name in (API Gateway keeps it as sent). */
function headerValue(headers: APIGatewayProxyEvent['headers'] | null, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() === name) return value;
  }
  return undefined;
}

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const requestId = event.requestContext?.requestId ?? 'unknown';
  return {
    statusCode: 200,
    headers: fhirHeaders(requestId, correlationId(headerValue(event.headers, 'x-correlation-id'))),
    body,
  };
}
