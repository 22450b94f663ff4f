/**
 * The middy stack of the FHIR functions: the REST stack's checks in the contract's order
 * (authentication, then role and permission code, then input), answered as FHIR: every error an
 * OperationOutcome, every answer `application/fhir+json` with the correlation id echoed.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Claims } from '../core/schemas';
import { accessDenial, claimsFromAuthorizer, type DenialRecorder } from '../http/api-handler';
import { ApiError } from '../http/errors';
import { type ApiEntry, type RouteDefinition, routesOfEntry } from '../http/routes';
import { logger } from '../observability';
import { correlationId, fhirHeaders } from './headers';
import { FhirError, fhirErrorResult, fromApiError } from './outcome';
import { namedNhsNumber } from './search';
import type { Bundle, Resource } from './types';

export interface FhirRequest {
  route: RouteDefinition;
  claims: Claims;
  query: Record<string, readonly string[]>;
  headers: Record<string, string | undefined>;
  requestId: string;
  /** Refuses (403), auditing the refusal under the NHS number the request names. */
  forbid(message: string): Promise<never>;
}

export interface FhirHandlerOptions {
  /** Told of every call refused with 403 (the wiring records it in the audit trail). */
  recordDenial?: DenialRecorder;
}

function queryOf(event: APIGatewayProxyEvent): Record<string, readonly string[]> {
  const query: Record<string, readonly string[]> = {};
  const multi = event.multiValueQueryStringParameters ?? {};
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    query[name] = multi[name] ?? (value === undefined ? [] : [value]);
  }
  return query;
}

/** Builds the Lambda handler of a FHIR entry; `handle` answers its routes with a resource. */
export function fhirHandler(
  entry: ApiEntry,
  handle: (request: FhirRequest) => Promise<Resource | Bundle>,
  options: FhirHandlerOptions = {},
) {
  const entryRoutes = routesOfEntry(entry);
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpHeaderNormalizer())
    .handler(async (event) => {
      const requestId = event.requestContext?.requestId ?? 'unknown';
      const correlation = correlationId(event.headers?.['x-correlation-id']);
      try {
        const route = entryRoutes.find(
          (candidate) => candidate.path === event.resource && candidate.method === event.httpMethod,
        );
        const claims = claimsFromAuthorizer(event.requestContext?.authorizer, new Date());
        if (!claims) throw new FhirError('UNAUTHENTICATED', 'A valid bearer token is required');
        // Any other FHIR path or method reaches this function through the API's catch-all resource.
        if (!route) throw fromApiError(new ApiError(404, 'NOT_FOUND', 'No such FHIR path'));
        const query = queryOf(event);
        const forbid = async (message: string): Promise<never> => {
          const nhsNumber = namedNhsNumber(query);
          await options.recordDenial?.(claims, nhsNumber ? { nhsNumber } : {});
          throw new FhirError('FORBIDDEN', message);
        };
        const denial = accessDenial(route, claims, {});
        if (denial) await forbid(denial);
        const resource = await handle({ route, claims, query, headers: event.headers, requestId, forbid });
        logger.info('Request served', { route: entry, status: 200 });
        return {
          statusCode: 200,
          headers: fhirHeaders(requestId, correlation),
          body: JSON.stringify(resource),
        };
      } catch (caught) {
        let error: FhirError;
        if (caught instanceof FhirError) error = caught;
        else if (caught instanceof ApiError) error = fromApiError(caught);
        else {
          const failure = caught as Error | undefined;
          logger.error('Request failed', { route: entry, errorName: failure?.name, stack: failure?.stack });
          error = new FhirError('INTERNAL', 'Something went wrong on our side; the request can be retried');
        }
        logger.info('Request refused', { route: entry, status: error.status, code: error.kind });
        return fhirErrorResult(error, requestId, correlation);
      }
    });
}
