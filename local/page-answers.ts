/**
 * Answers for the pages the local runtime serves beside the API without a token (the API reference,
 * the web view): read-only, stored nowhere, framed by no one.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { apiErrors, baseHeaders, errorResult } from '../functions/http/errors';

/** 405 for anything but GET and HEAD, or undefined when the method may read. */
export function refuseUnlessRead(method: string, requestId: string): APIGatewayProxyResult | undefined {
  return method === 'GET' || method === 'HEAD'
    ? undefined
    : errorResult(apiErrors.methodNotAllowed(['GET', 'HEAD']), requestId);
}

/** The headers of a page under `policy`, its Content-Security-Policy. */
export const pageSecurityHeaders = (policy: string): Record<string, string> => ({
  'Content-Security-Policy': policy,
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
});

/** 200 with a file's bytes; Node sends no body in answer to HEAD, but keeps the GET's Content-Length. */
export function fileAnswer(
  requestId: string,
  type: string,
  body: Buffer,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode: 200,
    headers: { ...baseHeaders(requestId), 'Content-Type': type, ...headers },
    body: body.toString('base64'),
    isBase64Encoded: true,
  };
}
