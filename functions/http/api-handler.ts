/**
 * The shared middy stack of every API function. Checks run in the contract's order: authentication
 * (the authorizer's claims), role, permission code and organisation, then input (path, media type,
 * size, body, query); the error responder turns any failure into the documented error body.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type * as z from 'zod/mini';
import { tokenHonoured } from '../core/claims';
import { isValidNhsNumber } from '../core/nhs-number';
import { type Claims, ClaimsSchema, CouncilCodeSchema, PlanTypeSchema } from '../core/schemas';
import { logger } from '../observability';
import { fromDomainError } from './domain-errors';
import { ApiError, apiErrors, baseHeaders, errorResult, fromSchemaIssues } from './errors';
import { type ApiEntry, type RouteDefinition, routeByEntry, routesOfEntry } from './routes';

export interface ApiRequest<TBody = unknown, TQuery = Record<string, unknown>> {
  claims: Claims;
  params: Record<string, string>;
  body: TBody;
  query: TQuery;
  headers: Record<string, string | undefined>;
  requestId: string;
  route: RouteDefinition;
}

export interface ApiResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A refused call, handed to whatever the wiring records refusals with (the audit trail). */
export type DenialRecorder = (claims: Claims, params: Record<string, string>) => Promise<void>;

export interface ApiHandlerOptions {
  maxBodyBytes?: number;
  /** A check that needs the table (e.g. "holds a plan for this number"): the reason to refuse, or undefined. */
  authorize?: (claims: Claims, params: Record<string, string>) => Promise<string | undefined>;
  /** Told of every call refused with 403; the HTTP layer decides, the wiring records. */
  recordDenial: DenialRecorder;
}

/** A body handed over unparsed (routes with `rawBody`), once its media type and size are checked. */
export interface RawBody {
  contentType: string;
  text: string;
}

const DEFAULT_MAX_BODY_BYTES = 16 * 1024;

/**
 * Parsed claims by the authorizer's context strings: API Gateway hands a warm function the same
 * context for every request of a caller's token, so each is parsed once (ADR 0056). Bounded; frozen,
 * as requests share them.
 */
const parsedClaims = new Map<string, Claims | undefined>();
const PARSED_CLAIMS_MAX = 1_000;

/**
 * Claims as the authorizer passed them (strings only, activities a JSON array), while the token is
 * still honoured. API Gateway serves the authorizer's cached answer for a token until the cache's TTL
 * runs out, even after the token has expired: the token's `exp`, passed on in the context, is checked
 * here on every request.
 */
export function claimsFromAuthorizer(
  authorizer: Record<string, unknown> | null | undefined,
  now: Date,
): Claims | undefined {
  if (!authorizer) return undefined;
  const exp =
    typeof authorizer.exp === 'string' || typeof authorizer.exp === 'number' ? Number(authorizer.exp) : NaN;
  if (!Number.isFinite(exp) || !tokenHonoured(exp, now)) return undefined;
  const fields = [
    authorizer.sub,
    authorizer.name,
    authorizer.org,
    authorizer.role,
    authorizer.activities,
    authorizer.setting,
    authorizer.roleName,
    authorizer.orgName,
  ] as const;
  const key = JSON.stringify(fields);
  if (parsedClaims.has(key)) return parsedClaims.get(key);
  const claims = parseClaims(...fields);
  if (parsedClaims.size >= PARSED_CLAIMS_MAX) parsedClaims.delete(parsedClaims.keys().next().value as string);
  parsedClaims.set(key, claims);
  return claims;
}

function parseClaims(
  sub: unknown,
  name: unknown,
  org: unknown,
  role: unknown,
  activitiesJson: unknown,
  setting: unknown,
  roleName: unknown,
  orgName: unknown,
): Claims | undefined {
  let activities: unknown = [];
  try {
    if (typeof activitiesJson === 'string') activities = JSON.parse(activitiesJson);
  } catch {
    return undefined;
  }
  const parsed = ClaimsSchema.safeParse({
    sub,
    name,
    org,
    role,
    activities,
    setting: setting || undefined,
    roleName: roleName || undefined,
    orgName: orgName || undefined,
  });
  if (!parsed.success) return undefined;
  Object.freeze(parsed.data.activities);
  return Object.freeze(parsed.data);
}

/** Why the caller may not make this call, or undefined when it may. */
export function accessDenial(
  route: RouteDefinition,
  claims: Claims,
  params: Record<string, string>,
): string | undefined {
  const { roles, activities, ownOrganisationParam } = route.access;
  if (!roles.includes(claims.role)) {
    return `This call needs the ${roles.join(' or ')} role; your token's role is ${claims.role}`;
  }
  if (activities && !activities.some((code) => claims.activities.includes(code))) {
    return `This call needs one of the permission codes ${activities.join(', ')}`;
  }
  if (ownOrganisationParam && params[ownOrganisationParam] !== claims.org) {
    return `Your organisation (${claims.org}) can only act for itself`;
  }
  return undefined;
}

/** Path parameters holding NHS numbers: `nhsNumber`, `oldNhsNumber`, `newNhsNumber`. */
const isNhsNumberParam = (name: string) => /^(nhsNumber|\w+NhsNumber)$/.test(name);

function validateParams(params: Record<string, string>): void {
  for (const [name, value] of Object.entries(params)) {
    if (isNhsNumberParam(name) && !isValidNhsNumber(value)) throw apiErrors.invalidNhsNumber(name);
  }
  if (params.councilCode !== undefined) {
    const parsed = CouncilCodeSchema.safeParse(params.councilCode);
    if (!parsed.success) throw fromSchemaIssues(parsed.error.issues, 'councilCode');
  }
  if (params.planType !== undefined) {
    const parsed = PlanTypeSchema.safeParse(params.planType);
    if (!parsed.success) throw fromSchemaIssues(parsed.error.issues, 'planType');
  }
}

function readBody(event: APIGatewayProxyEvent, accept: readonly string[], maxBytes: number): RawBody {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  const contentType = (event.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (text !== '' && !accept.includes(contentType)) throw apiErrors.unsupportedMediaType([...accept]);
  if (Buffer.byteLength(text, 'utf8') > maxBytes) throw apiErrors.payloadTooLarge(maxBytes);
  if (text.trim() === '') throw apiErrors.validation(`The request needs a body (${accept.join(' or ')})`);
  return { contentType, text };
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw apiErrors.validation('The body is not valid JSON');
  }
}

function parseJsonBody(event: APIGatewayProxyEvent, schema: z.ZodMiniType, maxBytes: number): unknown {
  const parsed = schema.safeParse(parseJson(readBody(event, ['application/json'], maxBytes).text));
  if (!parsed.success) throw fromSchemaIssues(parsed.error.issues);
  return parsed.data;
}

function parseQuery(event: APIGatewayProxyEvent, schema: z.ZodMiniType | undefined): Record<string, unknown> {
  const multi = event.multiValueQueryStringParameters ?? {};
  const single = event.queryStringParameters ?? {};
  const names = new Set([...Object.keys(single), ...Object.keys(multi)]);
  if (!schema) {
    if (names.size > 0) throw apiErrors.validation(`Unknown query parameter "${[...names][0]}": remove it`);
    return {};
  }
  for (const name of names) {
    if ((multi[name]?.length ?? 1) > 1)
      throw apiErrors.validation(`Query parameter "${name}" must be given once`);
  }
  const parsed = schema.safeParse({ ...single });
  if (!parsed.success) throw fromSchemaIssues(parsed.error.issues, 'query');
  return parsed.data as Record<string, unknown>;
}

const requests = new WeakMap<APIGatewayProxyEvent, ApiRequest>();

/** Authenticate, authorize, then parse: the order the contract fixes. */
function apiInput(
  entryRoutes: readonly RouteDefinition[],
  options: ApiHandlerOptions,
): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    before: async ({ event }) => {
      // An entry may serve several routes: API Gateway (and the local adapter) name the one called.
      const route =
        entryRoutes.find(
          (candidate) => candidate.path === event.resource && candidate.method === event.httpMethod,
        ) ?? (entryRoutes[0] as RouteDefinition);
      const claims = claimsFromAuthorizer(
        event.requestContext?.authorizer,
        // The wall clock, as the authorizer's verifier reads it (tests move `clock` to reach plan dates).
        new Date(),
      );
      if (!claims) throw apiErrors.unauthenticated();
      const params = Object.fromEntries(
        Object.entries(event.pathParameters ?? {}).filter(
          (entry): entry is [string, string] => entry[1] !== undefined,
        ),
      );
      const denial = accessDenial(route, claims, params) ?? (await options.authorize?.(claims, params));
      if (denial) {
        await options.recordDenial(claims, params);
        throw apiErrors.forbidden(denial);
      }
      validateParams(params);
      const maxBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
      let body: unknown;
      if (route.rawBody) body = readBody(event, route.rawBody.accept, maxBytes);
      else if (route.body) body = parseJsonBody(event, route.body, maxBytes);
      else if (event.body) throw apiErrors.validation('This call takes no body');
      const query = parseQuery(event, route.query);
      requests.set(event, {
        claims,
        params,
        body,
        query,
        headers: event.headers,
        requestId: event.requestContext.requestId,
        route,
      });
    },
  };
}

function errorResponder(route: RouteDefinition): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    onError: async (request) => {
      const requestId = request.event.requestContext?.requestId ?? 'unknown';
      const error = request.error;
      let apiError = error instanceof ApiError ? error : fromDomainError(error);
      if (!apiError) {
        logger.error('Request failed', { route: route.entry, errorName: error?.name, stack: error?.stack });
        apiError = apiErrors.internal();
      }
      request.response = errorResult(apiError, requestId);
      logger.info('Request refused', { route: route.entry, status: apiError.status, code: apiError.code });
    },
  };
}

/** Builds a Lambda handler for the route whose entry name is given. */
export function apiHandler<TBody = unknown, TQuery = Record<string, unknown>>(
  entry: ApiEntry,
  handle: (request: ApiRequest<TBody, TQuery>) => Promise<ApiResponse>,
  options: ApiHandlerOptions,
) {
  const route = routeByEntry(entry);
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpHeaderNormalizer())
    .use(errorResponder(route))
    .use(apiInput(routesOfEntry(entry), options))
    .handler(async (event) => {
      const request = requests.get(event) as ApiRequest<TBody, TQuery>;
      const response = await handle(request);
      logger.info('Request served', { route: route.entry, status: response.status });
      return {
        statusCode: response.status,
        headers: { ...baseHeaders(request.requestId), ...response.headers },
        body: response.body === undefined ? '' : JSON.stringify(response.body),
      };
    });
}
