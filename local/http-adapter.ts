/**
 * A small stand-in for API Gateway: routes a request (404, 405), runs the authorizer (401), applies
 * the lookup rate limits (429), then turns the request into an API Gateway proxy event for the very
 * same handler a deployed function runs. Under /FHIR/R4 it answers as the deployed FHIR API does:
 * OperationOutcomes, `metadata` without a token, any other FHIR path to the FHIR function after the
 * token. Locally only, it also serves the OpenAPI document and an API reference page (local/api-docs.ts),
 * outside the API's `/v1` paths and without a token.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayTokenAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { decodeJwt } from 'jose';
import { correlationId } from '../functions/fhir/headers';
import { fhirErrorResult, fromApiError, isFhirPath } from '../functions/fhir/outcome';
import { type ApiError, apiErrors, errorResult } from '../functions/http/errors';
import { FHIR_BASE_PATH, FHIR_CATCH_ALL, matchRoute, type RouteMatch } from '../functions/http/routes';
import { docsResponse } from './api-docs';
import type { RateLimiter } from './rate-limiter';

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
export type TokenAuthorizer = (event: APIGatewayTokenAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

/** API Gateway's own payload limit. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
const STAGE = 'local';

export function lambdaContext(functionName: string, requestId: string): Context {
  const deadline = Date.now() + 29_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-2:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

const NO_BODY = Buffer.alloc(0);

async function readBody(request: IncomingMessage): Promise<Buffer | 'too-large'> {
  // Without either header a request has no body (RFC 9112 6.3): no stream to wait on.
  if (request.headers['content-length'] === undefined && request.headers['transfer-encoding'] === undefined)
    return NO_BODY;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(response: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {}))
    headers[name] = values.map(String);
  const body = result.isBase64Encoded
    ? Buffer.from(result.body, 'base64')
    : Buffer.from(result.body ?? '', 'utf8');
  headers['Content-Length'] = String(body.length);
  response.writeHead(result.statusCode, headers);
  response.end(body);
}

function decodeSegments(pathname: string): string | undefined {
  try {
    return pathname
      .split('/')
      .map((segment) => decodeURIComponent(segment))
      .join('/');
  } catch {
    return undefined;
  }
}

/** As the deployed API's TOKEN authorizer (stacks/api-stack.ts: resultsCacheTtl). */
export const AUTHORIZER_CACHE_TTL_MS = 5 * 60_000;
const AUTHORIZER_CACHE_MAX_ENTRIES = 10_000;

/**
 * API Gateway's authorizer cache: the authorizer's answer for a token is reused for the TTL, as
 * deployed, but never past the token's own expiry. Refusals (the authorizer throws) are not cached.
 */
export function cachedAuthorizer(
  authorizer: TokenAuthorizer,
  ttlMs = AUTHORIZER_CACHE_TTL_MS,
): TokenAuthorizer {
  const answers = new Map<string, { result: APIGatewayAuthorizerResult; until: number }>();
  return async (event) => {
    const now = Date.now();
    const cached = answers.get(event.authorizationToken);
    if (cached && cached.until > now) return cached.result;
    answers.delete(event.authorizationToken);
    const result = await authorizer(event);
    if (answers.size >= AUTHORIZER_CACHE_MAX_ENTRIES) answers.delete(answers.keys().next().value as string);
    answers.set(event.authorizationToken, {
      result,
      until: Math.min(now + ttlMs, tokenExpiry(event.authorizationToken)),
    });
    return result;
  };
}

/** The `exp` of a bearer token already verified by the authorizer, in ms (0 when unreadable). */
function tokenExpiry(authorization: string): number {
  try {
    const { exp } = decodeJwt(authorization.replace(/^Bearer\s+/i, ''));
    return typeof exp === 'number' ? exp * 1000 : 0;
  } catch {
    return 0;
  }
}

export interface AdapterOptions {
  handlers: Record<string, ProxyHandler>;
  authorizer: TokenAuthorizer;
  rateLimiter: RateLimiter;
  onError?: (error: unknown) => void;
  /** Pages served beside the API without a token (the web view, local/web-view.ts): an answer, or undefined. */
  pages?: (method: string, pathname: string, requestId: string) => Promise<APIGatewayProxyResult> | undefined;
}

export function createHttpAdapter(options: AdapterOptions): Server {
  return createServer((request, response) => {
    const requestId = randomUUID();
    handle(request, requestId, options)
      .then((result) => send(response, result))
      .catch((error) => {
        options.onError?.(error);
        send(response, errorResult(apiErrors.internal(), requestId));
      });
  });
}

async function handle(
  request: IncomingMessage,
  requestId: string,
  options: AdapterOptions,
): Promise<APIGatewayProxyResult> {
  const method = (request.method ?? 'GET').toUpperCase();
  // Under the FHIR base every error is an OperationOutcome (the deployed FHIR API's gateway responses).
  let fhir = false;
  const fail = (error: ApiError) =>
    fhir
      ? fhirErrorResult(
          fromApiError(error),
          requestId,
          correlationId(headerValue(request.headers['x-correlation-id'])),
        )
      : errorResult(error, requestId);
  let url: URL;
  try {
    // Prefixed rather than resolved, so a path such as `//x` stays a path.
    url = new URL(`http://localhost${request.url ?? '/'}`);
  } catch {
    return fail(apiErrors.notFound(`No route ${method} ${request.url ?? ''}`));
  }
  const docs =
    docsResponse(method, url.pathname, request, requestId) ??
    options.pages?.(method, url.pathname, requestId);
  if (docs) return docs;
  const path = decodeSegments(url.pathname);

  fhir = path !== undefined && isFhirPath(path);
  const routed = path ? matchRoute(method, path) : { match: undefined, allowed: [] };
  const { allowed } = routed;
  let match: RouteMatch | undefined = routed.match;
  // Any other FHIR path or method goes, behind the token check, to the function that answers it 404.
  if (!match && fhir && path) match = fhirCatchAll(path);
  if (!match) {
    return allowed.length > 0
      ? fail(apiErrors.methodNotAllowed(allowed))
      : fail(apiErrors.notFound(`No route ${method} ${url.pathname}`));
  }
  const body = await readBody(request);
  if (body === 'too-large') return fail(apiErrors.payloadTooLarge(MAX_REQUEST_BYTES));

  const methodArn = `arn:aws:execute-api:eu-west-2:000000000000:local/${STAGE}/${method}${path}`;
  const authorization = request.headers.authorization;
  let authorizerContext: Record<string, unknown> = {};
  let principalId = 'anonymous';
  // A public route (the FHIR CapabilityStatement) has no authorizer, and so no caller to count.
  if (!match.route.public) {
    if (!authorization) return fail(apiErrors.unauthenticated());
    try {
      const result = await options.authorizer({
        type: 'TOKEN',
        authorizationToken: authorization,
        methodArn,
      });
      authorizerContext = result.context ?? {};
      principalId = result.principalId;
    } catch {
      return fail(apiErrors.unauthenticated());
    }

    // Every route is limited per caller; lookups also per user and per organisation.
    const retryAfter = options.rateLimiter.take(
      String(authorizerContext.org),
      String(authorizerContext.sub),
      match.route.rateLimited === true,
    );
    if (retryAfter !== undefined) return fail(apiErrors.throttled(retryAfter));
  }

  const rawHeaderPairs: [string, string][] = [];
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    rawHeaderPairs.push([request.rawHeaders[i] as string, request.rawHeaders[i + 1] as string]);
  }
  const { single: headers, multi: multiValueHeaders } = toParameterMaps(rawHeaderPairs);
  const { single: query, multi: multiQuery } = toParameterMaps(url.searchParams);
  const hasQuery = Object.keys(query).length > 0;
  const event: APIGatewayProxyEvent = {
    resource: match.route.path,
    path: path as string,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: match.pathParameters,
    stageVariables: null,
    body: body.length > 0 ? body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: { principalId, ...authorizerContext },
      httpMethod: method,
      identity: {
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
      } as APIGatewayProxyEvent['requestContext']['identity'],
      path: path as string,
      protocol: 'HTTP/1.1',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: match.route.entry,
      resourcePath: match.route.path,
      stage: STAGE,
    },
  };
  const handler = options.handlers[match.route.entry];
  if (!handler) throw new Error(`No handler loaded for ${match.route.entry}`);
  return handler(event, lambdaContext(match.route.entry, requestId));
}

const headerValue = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** The catch-all FHIR resource's match, as API Gateway routes a path under the base with no route of its own. */
function fhirCatchAll(path: string): RouteMatch {
  const route = {
    ...FHIR_CATCH_ALL,
    method: 'GET',
    summary: '',
    access: { roles: [] },
    responses: [],
    errors: [],
  };
  return {
    route: route as RouteMatch['route'],
    pathParameters: { proxy: path.slice(FHIR_BASE_PATH.length + 1) },
  };
}

/**
 * API Gateway's single- and multi-value maps. Built on null-prototype objects so that a client's
 * header or parameter named `__proto__` or `constructor` is just a name, not an inherited property.
 */
function toParameterMaps(pairs: Iterable<[string, string]>): {
  single: Record<string, string>;
  multi: Record<string, string[]>;
} {
  const single: Record<string, string> = Object.create(null);
  const multi: Record<string, string[]> = Object.create(null);
  for (const [name, value] of pairs) {
    single[name] = value;
    const values = multi[name];
    if (values) values.push(value);
    else multi[name] = [value];
  }
  return { single, multi };
}
