/**
 * Every API route, as data: the local adapter routes with it, the CDK stack builds API Gateway
 * resources from it, and the OpenAPI document is generated from it. No AWS imports here.
 */
import type * as z from 'zod/mini';
import { ACTIVITIES } from '../core/access-history';
import {
  auditQuerySchema,
  councilBodySchema,
  councilPlansQuerySchema,
  type ErrorCode,
  planBodySchema,
  type Role,
  sensitivityBodySchema,
  UploadJsonBodySchema,
  uploadQuerySchema,
} from '../core/schemas';
import { fhirSearchQuerySchema } from '../fhir/schemas';
import type { ResponseSchemaName } from './response-schemas';

export type HttpMethod = 'GET' | 'PUT' | 'POST' | 'DELETE';

export interface AccessRule {
  roles: readonly Role[];
  /** Clinicians must hold at least one of these permission codes. */
  activities?: readonly string[];
  /** The caller's organisation must equal this path parameter. */
  ownOrganisationParam?: string;
}

/** The API functions, one handler file each: functions/<entry>.ts. */
export const API_ENTRIES = [
  'register-council',
  'put-plan',
  'delete-plan',
  'lookup',
  'audit-query',
  'upload',
  'supersede',
  'sensitivity',
  'council-read-back',
  'council-accesses',
  'fhir-metadata',
  'fhir-search',
] as const;
export type ApiEntry = (typeof API_ENTRIES)[number];

export interface RouteDefinition {
  /** Function id and handler file: functions/<entry>.ts */
  entry: ApiEntry;
  /** The operation's name (OpenAPI operationId, API Gateway operation name) when the entry serves several routes. */
  operation?: string;
  method: HttpMethod;
  path: string;
  summary: string;
  access: AccessRule;
  rateLimited?: boolean;
  /** Answered without a token (no authorizer): the FHIR CapabilityStatement only. */
  public?: boolean;
  /** Answers in FHIR R4 (`application/fhir+json`, errors as OperationOutcome) under FHIR_BASE_PATH. */
  fhir?: boolean;
  /** Route tables write the body and query schemas as getters, built on first use (docs/adr/0051). */
  readonly body?: z.ZodMiniType;
  /** The body is handed to the handler unparsed, once its media type is one of these. */
  rawBody?: { accept: readonly string[] };
  readonly query?: z.ZodMiniType;
  /** `schema` names the response's schema in http/response-schemas.ts (the OpenAPI document's component). */
  responses: { status: number; description: string; schema?: ResponseSchemaName; headers?: string[] }[];
  errors: ErrorCode[];
}

const COMMON_ERRORS: ErrorCode[] = [
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'INTERNAL',
];
const BODY_ERRORS: ErrorCode[] = ['VALIDATION_FAILED', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'];

/**
 * No request body may reach this size (the upload route's limit; the others' are far smaller). Lambda
 * takes at most 6 MiB of event, in which the body is a JSON string (quotes, backslashes and line breaks
 * escaped), so deployed, the web ACL refuses bodies this large before they reach a function: a larger
 * body would fail the invocation and answer 5xx. A round figure, so that the ACL can match it.
 */
export const BODY_LIMIT_BYTES = 5_000_000;

/** The FHIR R4 interface's base path: its routes, and any other path under it, answer in FHIR. */
export const FHIR_BASE_PATH = '/FHIR/R4';
const fhirSearch = (
  resource: 'CareTeam' | 'AuditEvent',
  summary: string,
  description: string,
): RouteDefinition => ({
  entry: 'fhir-search',
  operation: `fhir${resource}Search`,
  method: 'GET',
  path: `${FHIR_BASE_PATH}/${resource}`,
  summary,
  access: { roles: ['clinician'], activities: ACTIVITIES },
  rateLimited: true,
  fhir: true,
  get query() {
    return fhirSearchQuerySchema();
  },
  responses: [{ status: 200, description, schema: 'FhirBundle', headers: ['X-Correlation-ID'] }],
  // FHIR errors are OperationOutcomes with Spine codes (functions/fhir/outcome.ts), not the REST codes.
  errors: [],
});

/**
 * Any other path or method under the FHIR base: after the token check, the FHIR search function
 * answers it 404 as an OperationOutcome (deployed, a greedy resource with ANY; locally, the adapter).
 */
export const FHIR_CATCH_ALL = { entry: 'fhir-search', path: `${FHIR_BASE_PATH}/{proxy+}` } as const;

/** The FHIR R4 interface (national CP-IS FHIR API): its metadata and two searches. */
const fhirRoutes: RouteDefinition[] = [
  {
    entry: 'fhir-metadata',
    method: 'GET',
    path: `${FHIR_BASE_PATH}/metadata`,
    summary:
      'FHIR CapabilityStatement (FHIR 4.0.1): the two searches this interface answers; no token needed',
    access: { roles: [] },
    public: true,
    fhir: true,
    responses: [{ status: 200, description: 'The CapabilityStatement', schema: 'FhirCapabilityStatement' }],
    errors: [],
  },
  fhirSearch(
    'CareTeam',
    "FHIR search: a child's visible plans as CareTeams (header IsUnscheduledAccessEvent: true notifies, false is a silent read)",
    'A searchset Bundle: one CareTeam per visible plan',
  ),
  fhirSearch(
    'AuditEvent',
    "FHIR search: a child's recent unscheduled-care accesses as AuditEvents with the viewers' PractitionerRoles (a silent read)",
    'A searchset Bundle: one AuditEvent per access, PractitionerRoles included',
  ),
];

export const routes: readonly RouteDefinition[] = [
  {
    entry: 'register-council',
    method: 'PUT',
    path: '/v1/councils/{councilCode}',
    summary: "Register a council or update its name and duty team's phone numbers",
    access: { roles: ['council'], ownOrganisationParam: 'councilCode' },
    get body() {
      return councilBodySchema();
    },
    responses: [{ status: 200, description: 'The stored council', schema: 'Council' }],
    errors: [...COMMON_ERRORS, ...BODY_ERRORS],
  },
  {
    entry: 'put-plan',
    method: 'PUT',
    path: '/v1/councils/{councilCode}/plans/{nhsNumber}/{planType}',
    summary: 'Publish, update or end a plan',
    access: { roles: ['council'], ownOrganisationParam: 'councilCode' },
    get body() {
      return planBodySchema();
    },
    responses: [
      { status: 201, description: 'Created', schema: 'Plan', headers: ['ETag'] },
      { status: 200, description: 'Updated or unchanged', schema: 'Plan', headers: ['ETag'] },
    ],
    errors: [...COMMON_ERRORS, ...BODY_ERRORS, 'INVALID_NHS_NUMBER', 'CONFLICT', 'SENSITIVE_RECORD'],
  },
  {
    entry: 'delete-plan',
    method: 'DELETE',
    path: '/v1/councils/{councilCode}/plans/{nhsNumber}/{planType}',
    summary: 'Remove a plan entered in error (the audit trail keeps its history)',
    access: { roles: ['council'], ownOrganisationParam: 'councilCode' },
    responses: [{ status: 204, description: 'Removed' }],
    errors: [...COMMON_ERRORS, 'VALIDATION_FAILED', 'INVALID_NHS_NUMBER', 'CONFLICT'],
  },
  {
    entry: 'lookup',
    method: 'GET',
    path: '/v1/children/{nhsNumber}',
    summary: "Look a child up: visible plans, the councils' contacts and recent unscheduled-care accesses",
    access: { roles: ['clinician'], activities: ACTIVITIES },
    rateLimited: true,
    responses: [
      {
        status: 200,
        description: 'The child, with an empty plans list if none is visible',
        schema: 'LookupResponse',
      },
    ],
    errors: [...COMMON_ERRORS, 'INVALID_NHS_NUMBER', 'VALIDATION_FAILED', 'THROTTLED'],
  },
  {
    entry: 'lookup',
    operation: 'checkAlert',
    method: 'GET',
    path: '/v1/children/{nhsNumber}/alert',
    summary:
      'Presence check: whether a child has a visible plan; notifies nobody and is not an access (opening the details is the lookup)',
    access: { roles: ['clinician'], activities: ACTIVITIES },
    rateLimited: true,
    responses: [{ status: 200, description: 'Whether an alert exists', schema: 'AlertResponse' }],
    errors: [...COMMON_ERRORS, 'INVALID_NHS_NUMBER', 'VALIDATION_FAILED', 'THROTTLED'],
  },
  {
    entry: 'audit-query',
    method: 'GET',
    path: '/v1/audit/children/{nhsNumber}',
    summary: 'Every audited event about an NHS number, newest first',
    access: { roles: ['auditor'] },
    get query() {
      return auditQuerySchema();
    },
    responses: [{ status: 200, description: 'One page of events', schema: 'AuditPage' }],
    errors: [...COMMON_ERRORS, 'INVALID_NHS_NUMBER', 'VALIDATION_FAILED'],
  },
  {
    entry: 'audit-query',
    operation: 'councilAuditQuery',
    method: 'GET',
    path: '/v1/audit/councils/{councilCode}',
    summary: "A council's registration and every change to it, newest first",
    access: { roles: ['auditor'] },
    get query() {
      return auditQuerySchema();
    },
    responses: [{ status: 200, description: 'One page of events', schema: 'AuditPage' }],
    errors: [...COMMON_ERRORS, 'VALIDATION_FAILED'],
  },
  {
    entry: 'upload',
    method: 'POST',
    path: '/v1/councils/{councilCode}/uploads',
    summary: "Upload many plans at once (delta, or a snapshot of the council's complete list)",
    access: { roles: ['council'], ownOrganisationParam: 'councilCode' },
    body: UploadJsonBodySchema,
    rawBody: { accept: ['application/json', 'text/csv'] },
    get query() {
      return uploadQuerySchema();
    },
    responses: [
      {
        status: 200,
        description: 'A result per record, in file order, then the plans a snapshot ended',
        schema: 'UploadResult',
      },
    ],
    errors: [...COMMON_ERRORS, ...BODY_ERRORS, 'CONFLICT', 'SNAPSHOT_GUARD'],
  },
  {
    entry: 'supersede',
    method: 'POST',
    path: '/v1/nhs-numbers/{oldNhsNumber}/superseded-by/{newNhsNumber}',
    summary:
      'Report (as the demographics service) that an NHS number was superseded: its plans and access history move to the new number',
    access: { roles: ['demographics'] },
    responses: [{ status: 200, description: 'The plans moved', schema: 'Supersession' }],
    errors: [...COMMON_ERRORS, 'INVALID_NHS_NUMBER', 'VALIDATION_FAILED', 'CONFLICT'],
  },
  {
    entry: 'sensitivity',
    method: 'PUT',
    path: '/v1/nhs-numbers/{nhsNumber}/sensitivity',
    summary: 'Record that the demographics service flags (or unflags) a person as sensitive',
    access: { roles: ['demographics'] },
    get body() {
      return sensitivityBodySchema();
    },
    responses: [{ status: 200, description: 'The stored flag', schema: 'Sensitivity' }],
    errors: [...COMMON_ERRORS, ...BODY_ERRORS, 'INVALID_NHS_NUMBER'],
  },
  {
    entry: 'council-read-back',
    operation: 'getCouncil',
    method: 'GET',
    path: '/v1/councils/{councilCode}',
    summary: "Read back the council's registration, and a plan or its plans (the council's own only)",
    access: { roles: ['council'], ownOrganisationParam: 'councilCode' },
    responses: [{ status: 200, description: 'The stored council', schema: 'Council' }],
    errors: [...COMMON_ERRORS, 'VALIDATION_FAILED'],
  },
  {
    entry: 'council-read-back',
    operation: 'getCouncilPlan',
    method: 'GET',
    path: '/v1/councils/{councilCode}/plans/{nhsNumber}/{planType}',
    summary:
      "Read back one of the council's plans as a PUT answers it, with the ETag a conditional write takes",
    access: { roles: ['council'], ownOrganisationParam: 'councilCode' },
    responses: [{ status: 200, description: 'The stored plan', schema: 'Plan', headers: ['ETag'] }],
    errors: [...COMMON_ERRORS, 'VALIDATION_FAILED', 'INVALID_NHS_NUMBER'],
  },
  {
    entry: 'council-read-back',
    operation: 'listCouncilPlans',
    method: 'GET',
    path: '/v1/councils/{councilCode}/plans',
    summary: "The council's plans (open, visible or all), by NHS number then plan type, a page at a time",
    access: { roles: ['council'], ownOrganisationParam: 'councilCode' },
    get query() {
      return councilPlansQuerySchema();
    },
    responses: [{ status: 200, description: 'One page of plans', schema: 'CouncilPlansPage' }],
    errors: [...COMMON_ERRORS, 'VALIDATION_FAILED'],
  },
  {
    entry: 'council-accesses',
    operation: 'getChildAccesses',
    method: 'GET',
    path: '/v1/councils/{councilCode}/children/{nhsNumber}/accesses',
    summary:
      "A child's recent unscheduled-care accesses, as a clinician's lookup shows them, for a council holding one of its visible plans",
    access: { roles: ['council'], ownOrganisationParam: 'councilCode' },
    responses: [{ status: 200, description: 'The recent accesses, newest first', schema: 'ChildAccesses' }],
    errors: [...COMMON_ERRORS, 'VALIDATION_FAILED', 'INVALID_NHS_NUMBER'],
  },
  ...fhirRoutes,
];

export interface RouteMatch {
  route: RouteDefinition;
  pathParameters: Record<string, string>;
}

/** Route templates split into segments once, not on every request. */
const templateSegments = new Map<string, string[]>();

function matchTemplate(template: string, got: readonly string[]): Record<string, string> | undefined {
  let want = templateSegments.get(template);
  if (!want) {
    want = template.split('/');
    templateSegments.set(template, want);
  }
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const segment = want[i] as string;
    const actual = got[i] as string;
    if (segment.startsWith('{')) {
      if (actual === '') return undefined;
      params[segment.slice(1, -1)] = actual;
    } else if (segment !== actual) {
      return undefined;
    }
  }
  return params;
}

/** Finds the route for a method and path; `allowed` lists the methods of a known path. */
export function matchRoute(method: string, path: string): { match?: RouteMatch; allowed: HttpMethod[] } {
  const allowed: HttpMethod[] = [];
  const segments = path.split('/');
  let match: RouteMatch | undefined;
  for (const route of routes) {
    const params = matchTemplate(route.path, segments);
    if (!params) continue;
    allowed.push(route.method);
    if (route.method === method) match = { route, pathParameters: params };
  }
  return { match, allowed };
}

/** The operation name of a route: its own, or its entry's in camel case. */
export const operationName = (route: RouteDefinition): string =>
  route.operation ?? route.entry.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase());

/** Every route an API function serves (an entry may serve several). */
export const routesOfEntry = (entry: ApiEntry): RouteDefinition[] =>
  routes.filter((route) => route.entry === entry);

export function routeByEntry(entry: ApiEntry): RouteDefinition {
  const route = routes.find((candidate) => candidate.entry === entry);
  if (!route) throw new Error(`No route has entry ${entry}`);
  return route;
}
