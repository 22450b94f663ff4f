/**
 * The OpenAPI 3.1 document of API v1, built from the route table and the same zod schemas the
 * handlers validate with.
 */
import * as z from 'zod';
import type { ZodMiniType } from 'zod/mini';
import { ErrorBodySchema } from '../functions/core/response-schemas';
import {
  CouncilCodeSchema,
  ERROR_CODES,
  type ErrorCode,
  NhsNumberSchema,
  PlanTypeSchema,
} from '../functions/core/schemas';
import { FHIR_MEDIA_TYPE } from '../functions/fhir/capability-statement';
import { FHIR_ERRORS, type FhirErrorKind, operationOutcome } from '../functions/fhir/outcome';
import { fhirOperationOutcomeSchema } from '../functions/fhir/schemas';
import { UNSCHEDULED_HEADER } from '../functions/fhir/search';
import { RESPONSE_SCHEMAS } from '../functions/http/response-schemas';
import { operationName, type RouteDefinition, routes } from '../functions/http/routes';

const ERROR_STATUS: Record<ErrorCode, number> = {
  INVALID_NHS_NUMBER: 400,
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  SENSITIVE_RECORD: 409,
  SNAPSHOT_GUARD: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  THROTTLED: 429,
  INTERNAL: 500,
};

type JsonSchema = Record<string, unknown>;

const PATH_PARAMETER_SCHEMAS: Record<string, ZodMiniType> = {
  nhsNumber: NhsNumberSchema,
  councilCode: CouncilCodeSchema,
  planType: PlanTypeSchema,
};

/** Renders a schema, hoisting named sub-schemas into components and pointing at them there. */
function render(
  schema: ZodMiniType,
  components: Record<string, JsonSchema>,
  io: 'input' | 'output',
): JsonSchema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', reused: 'inline' }) as JsonSchema;
  const text = JSON.stringify(json).replaceAll('"#/$defs/', '"#/components/schemas/');
  const rendered = JSON.parse(text) as JsonSchema;
  const defs = (rendered.$defs ?? {}) as Record<string, JsonSchema>;
  for (const [name, definition] of Object.entries(defs)) components[name] = definition;
  delete rendered.$defs;
  delete rendered.$schema;
  const id = rendered.id as string | undefined;
  if (id) {
    delete rendered.id;
    components[id] = rendered;
    return { $ref: `#/components/schemas/${id}` };
  }
  return rendered;
}

function errorResponse(codes: ErrorCode[], status: number) {
  return {
    description: `Error: ${codes.join(', ')}`,
    headers: {
      'Cache-Control': { $ref: '#/components/headers/CacheControl' },
      'X-Request-Id': { $ref: '#/components/headers/RequestId' },
      ...(status === 405
        ? { Allow: { schema: { type: 'string' }, description: 'Methods this path allows' } }
        : {}),
      ...(status === 429
        ? { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait' } }
        : {}),
    },
    content: {
      'application/json': {
        schema: { $ref: '#/components/schemas/Error' },
        examples: Object.fromEntries(
          codes.map((code) => [code, { value: { error: { code, message: '…' } } }]),
        ),
      },
    },
  };
}

/** The FHIR errors a FHIR route answers, by status: OperationOutcomes with their Spine codes. */
function fhirErrorResponses(route: RouteDefinition, components: Record<string, JsonSchema>) {
  if (route.public) return {};
  const kinds = (Object.keys(FHIR_ERRORS) as FhirErrorKind[]).filter(
    (kind) => kind !== 'PRECONDITION_FAILED' || route.operation === 'fhirCareTeamSearch',
  );
  const schema = render(fhirOperationOutcomeSchema(), components, 'output');
  const byStatus = new Map<number, FhirErrorKind[]>();
  for (const kind of kinds)
    byStatus.set(FHIR_ERRORS[kind].status, [...(byStatus.get(FHIR_ERRORS[kind].status) ?? []), kind]);
  return Object.fromEntries(
    [...byStatus].map(([status, group]) => [
      String(status),
      {
        description: `OperationOutcome: ${group.map((kind) => `${FHIR_ERRORS[kind].issue} ${FHIR_ERRORS[kind].code}`).join(', ')}`,
        headers: {
          'Cache-Control': { $ref: '#/components/headers/CacheControl' },
          'X-Request-Id': { $ref: '#/components/headers/RequestId' },
          ...(status === 429
            ? { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait' } }
            : {}),
        },
        content: {
          [FHIR_MEDIA_TYPE]: {
            schema,
            examples: Object.fromEntries(group.map((kind) => [kind, { value: operationOutcome(kind, '…') }])),
          },
        },
      },
    ]),
  );
}

/** The request headers of a FHIR route: the correlation id, and the kind of access for CareTeam. */
function fhirHeaderParameters(route: RouteDefinition) {
  return [
    ...(route.operation === 'fhirCareTeamSearch'
      ? [
          {
            name: UNSCHEDULED_HEADER,
            in: 'header',
            required: false,
            schema: { type: 'string', enum: ['true', 'false'], default: 'true' },
            description:
              'true (or absent): an unscheduled-care access, needs B0107, notifies the councils; false: a silent read (B0170 or B0107)',
          },
        ]
      : []),
    ...(route.public
      ? []
      : [
          {
            name: 'X-Correlation-ID',
            in: 'header',
            required: false,
            schema: { type: 'string' },
            description: 'Echoed in the response',
          },
        ]),
  ];
}

export function buildOpenApiDocument(): Record<string, unknown> {
  const components: Record<string, JsonSchema> = {};
  render(ErrorBodySchema, components, 'output');
  const paths: Record<string, Record<string, unknown>> = {};

  for (const route of routes) {
    const parameters = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
      name,
      in: 'path',
      required: true,
      schema: PATH_PARAMETER_SCHEMAS[name as string]
        ? render(PATH_PARAMETER_SCHEMAS[name as string] as ZodMiniType, {}, 'input')
        : { type: 'string' },
    }));
    if (route.query instanceof z.core.$ZodObject) {
      for (const [name, field] of Object.entries(route.query._zod.def.shape)) {
        parameters.push({
          name,
          in: 'query',
          required: !(field as ZodMiniType).safeParse(undefined).success,
          schema: render(field as ZodMiniType, components, 'input') as never,
        });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const response of route.responses) {
      responses[String(response.status)] = {
        description: response.description,
        headers: {
          'Cache-Control': { $ref: '#/components/headers/CacheControl' },
          'X-Request-Id': { $ref: '#/components/headers/RequestId' },
          ...Object.fromEntries(
            (response.headers ?? []).map((name) => [name, { schema: { type: 'string' } }]),
          ),
        },
        ...(response.schema
          ? {
              content: {
                [route.fhir ? FHIR_MEDIA_TYPE : 'application/json']: {
                  schema: render(RESPONSE_SCHEMAS[response.schema], components, 'output'),
                },
              },
            }
          : {}),
      };
    }
    const byStatus = new Map<number, ErrorCode[]>();
    for (const code of route.errors)
      byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
    for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b))
      responses[String(status)] = errorResponse(codes, status);
    if (route.fhir) Object.assign(responses, fhirErrorResponses(route, components));
    if (route.fhir) parameters.push(...(fhirHeaderParameters(route) as never[]));

    const roles = route.access.roles.join(', ');
    const activities = route.access.activities
      ? `; permission code ${route.access.activities.join(' or ')}`
      : '';
    const own = route.access.ownOrganisationParam
      ? `; token org must equal {${route.access.ownOrganisationParam}}`
      : '';
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method.toLowerCase()] = {
      operationId: operationName(route),
      summary: route.summary,
      description: route.public ? 'No token needed.' : `Role ${roles}${activities}${own}.`,
      security: route.public ? [] : [{ bearer: [] }],
      parameters,
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: {
                'application/json': { schema: render(route.body, components, 'input') },
                ...(route.rawBody?.accept.includes('text/csv')
                  ? {
                      'text/csv': {
                        schema: {
                          type: 'string',
                          description: 'Header row nhsNumber,planType,startDate,endDate',
                        },
                      },
                    }
                  : {}),
              },
            },
          }
        : {}),
      ...(['PUT', 'DELETE'].includes(route.method) && route.path.includes('/plans/')
        ? {
            parameters: [
              ...parameters,
              {
                name: 'If-Match',
                in: 'header',
                required: false,
                schema: { type: 'string' },
                description: 'Version from the ETag',
              },
            ],
          }
        : {}),
      responses,
    };
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'Child protection information sharing API',
      version: '1.0.0',
      description: 'Plan pointers, lookups by NHS number, council notifications and the audit trail.',
    },
    servers: [{ url: 'http://127.0.0.1:3000', description: 'Local (npm start)' }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      headers: {
        CacheControl: { schema: { type: 'string', const: 'no-store' } },
        RequestId: { schema: { type: 'string' } },
      },
      schemas: components,
    },
    'x-error-codes': ERROR_CODES,
  };
}
