/**
 * Request schemas of API v1 and the pieces every schema shares, defined once: handlers validate with
 * them and `npm run openapi` renders them into openapi.json. The response schemas, which only the
 * OpenAPI document and the tests use, are in response-schemas.ts; the council messages in
 * council-messages.ts.
 *
 * Written with `zod/mini`, zod's tree-shakable functional API over the same core (docs/adr/0001). A
 * function builds at import only the few schemas every API function uses; each route's body and query
 * schema is built on its first use (docs/adr/0051). The English messages are configured here because
 * zod/mini loads no locale by default.
 */

import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { EARLIEST_DATE, isIsoDate, isServiceDate } from './dates';
import { lazily } from './lazily';
import { PLAN_TYPES } from './plans';
import { CSV_HEADER, MAX_UPLOAD_RECORDS, UPLOAD_MODES } from './uploads';

z.config(en());

export { type Claims, ClaimsSchema, ROLES, type Role } from './claims';
export type { ChildRecordAccessed, CouncilMessage } from './council-messages';
export type {
  AlertResponse,
  AuditEvent,
  ChildAccesses,
  Council,
  CouncilPlansPage,
  ErrorBody,
  LookupResponse,
  Plan,
  PreviousAccess,
  UploadResponse,
} from './response-schemas';

const isoDate = (field: string) =>
  z
    .string({ error: `${field} must be a date (YYYY-MM-DD)` })
    .check(
      z.refine(isIsoDate, { error: `${field} must be a date (YYYY-MM-DD)`, abort: true }),
      z.refine(isServiceDate, { error: `${field} must be on or after ${EARLIEST_DATE}` }),
      z.meta({ format: 'date', example: '2026-03-01' }),
    );

const PHONE_PATTERN = /^[0-9 +()-]{3,30}$/;
const phone = (field: string) =>
  z.string({ error: `${field} must be a phone number` }).check(
    z.refine((value) => PHONE_PATTERN.test(value) && (value.match(/\d/g)?.length ?? 0) >= 3, {
      error: `${field} must be 3 to 30 characters of digits, spaces, +, (, ) and -, with at least 3 digits`,
    }),
    z.meta({ example: '020 7946 0999' }),
  );

/** An integer, as classic zod's `z.number().int()` is (and is rendered). */
export const integer = () => z.number().check(z.int());
export const date = () => z.string().check(z.meta({ format: 'date' }));
export const dateTime = () => z.string().check(z.meta({ format: 'date-time' }));

export const NhsNumberSchema = z.string().check(
  z.regex(/^\d{10}$/),
  z.meta({
    description: 'NHS number: 10 digits with a valid Modulus 11 check digit',
    example: '9990000018',
  }),
);
export const CouncilCodeSchema = z.string().check(
  z.regex(/^[A-Z0-9]{3,10}$/, {
    error: 'councilCode must be an ODS code: 3 to 10 capital letters or digits',
  }),
  z.meta({ description: 'ODS code of the council', example: 'E09000001' }),
);
export const PlanTypeSchema = z
  .enum(PLAN_TYPES, { error: `planType must be one of ${PLAN_TYPES.join(', ')}` })
  .check(
    z.meta({
      description: 'CPP child protection plan; LAC looked-after child; UCPP unborn child protection plan',
    }),
  );

const MAX_COUNCIL_NAME = 120;
/** Control, format (bidirectional marks, zero-width), surrogate, private-use and unassigned characters. */
const NOT_PRINTABLE = /[\p{C}\p{Zl}\p{Zp}]/u;

export const councilBodySchema = lazily(() =>
  z
    .strictObject({
      name: z.string({ error: 'name must be a string' }).check(
        z.trim(),
        z.minLength(1, { error: 'name must not be empty' }),
        z.maxLength(MAX_COUNCIL_NAME, { error: `name must be at most ${MAX_COUNCIL_NAME} characters` }),
        // Shown to clinicians as it is: no control, bidirectional-formatting or invisible characters.
        z.refine((value) => !NOT_PRINTABLE.test(value), {
          error: 'name must be printable text: no control, bidirectional-formatting or invisible characters',
        }),
      ),
      officeHoursPhone: z.optional(z.nullable(phone('officeHoursPhone'))),
      emergencyDutyPhone: phone('emergencyDutyPhone'),
    })
    .check(z.meta({ id: 'CouncilRequest' })),
);
export type CouncilBody = z.infer<ReturnType<typeof councilBodySchema>>;

export const planBodySchema = lazily(() =>
  z
    .strictObject({
      startDate: isoDate('startDate'),
      endDate: z.optional(z.nullable(isoDate('endDate'))),
    })
    .check(
      z.refine((body) => !body.endDate || body.endDate >= body.startDate, {
        error: 'endDate must not be before startDate',
        path: ['endDate'],
      }),
      z.meta({ id: 'PlanRequest' }),
    ),
);
export type PlanBody = z.infer<ReturnType<typeof planBodySchema>>;

export const AUDIT_ACTIONS = [
  'LOOKUP_NOTIFYING',
  'LOOKUP_SILENT',
  'ALERT_CHECKED',
  'PLAN_CREATED',
  'PLAN_UPDATED',
  'PLAN_ENDED',
  'PLAN_DELETED',
  'PLAN_REFUSED',
  'UPLOAD_CHECKED',
  'NHS_NUMBER_SUPERSEDED',
  'ACCESS_DENIED',
  'COUNCIL_REGISTERED',
  'COUNCIL_UPDATED',
  'SENSITIVITY_CHANGED',
  'COUNCIL_VIEWED_ACCESSES',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
export const AUDIT_OUTCOMES = ['FOUND', 'NOT_FOUND', 'SUCCESS', 'DENIED', 'CHECKED'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export const auditQuerySchema = lazily(() =>
  z.strictObject({
    limit: z.optional(
      z
        .pipe(
          z.string().check(z.regex(/^\d{1,3}$/, { error: 'limit must be a whole number from 1 to 200' })),
          z.transform(Number),
        )
        .check(z.refine((n) => n >= 1 && n <= 200, { error: 'limit must be a whole number from 1 to 200' })),
    ),
    cursor: z.optional(
      z
        .string()
        .check(z.regex(/^[A-Za-z0-9_-]{1,200}$/, { error: 'cursor must be a value returned as nextCursor' })),
    ),
  }),
);

/** Which of its plans a council lists: open, visible to lookups (the default), or every one still stored. */
export const PLAN_STATUSES = ['open', 'visible', 'all'] as const;
export type PlanStatus = (typeof PLAN_STATUSES)[number];
export const MAX_PLANS_PAGE = 1000;

export const councilPlansQuerySchema = lazily(() =>
  z.strictObject({
    status: z.optional(z.enum(PLAN_STATUSES, { error: `status must be one of ${PLAN_STATUSES.join(', ')}` })),
    limit: z.optional(
      z
        .pipe(
          z
            .string()
            .check(
              z.regex(/^\d{1,4}$/, { error: `limit must be a whole number from 1 to ${MAX_PLANS_PAGE}` }),
            ),
          z.transform(Number),
        )
        .check(
          z.refine((n) => n >= 1 && n <= MAX_PLANS_PAGE, {
            error: `limit must be a whole number from 1 to ${MAX_PLANS_PAGE}`,
          }),
        ),
    ),
    cursor: z.optional(
      z
        .string()
        .check(z.regex(/^[A-Za-z0-9_-]{1,200}$/, { error: 'cursor must be a value returned as nextCursor' })),
    ),
  }),
);

export const ERROR_CODES = [
  'INVALID_NHS_NUMBER',
  'VALIDATION_FAILED',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'CONFLICT',
  'SENSITIVE_RECORD',
  'SNAPSHOT_GUARD',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'THROTTLED',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const sensitivityBodySchema = lazily(() =>
  z
    .strictObject({ sensitive: z.boolean({ error: 'sensitive must be true or false' }) })
    .check(z.meta({ id: 'SensitivityRequest' })),
);
export type SensitivityBody = z.infer<ReturnType<typeof sensitivityBodySchema>>;

const booleanFlag = (name: string) =>
  z.optional(
    z.pipe(
      z.enum(['true', 'false'], { error: `${name} must be true or false` }),
      z.transform((value) => value === 'true'),
    ),
  );

export const uploadQuerySchema = lazily(() =>
  z.strictObject({
    mode: z.optional(z.enum(UPLOAD_MODES, { error: `mode must be ${UPLOAD_MODES.join(' or ')}` })),
    force: booleanFlag('force'),
    dryRun: booleanFlag('dryRun'),
  }),
);

// Built at import, unlike the other bodies: features/upload-plans.ts imports it as a value.
export const UploadJsonBodySchema = z
  .strictObject({
    mode: z.optional(z.enum(UPLOAD_MODES, { error: `mode must be ${UPLOAD_MODES.join(' or ')}` })),
    records: z.array(z.unknown(), { error: 'records must be a list of records' }),
  })
  .check(
    z.meta({
      id: 'UploadRequest',
      description: `Or Content-Type text/csv with the header row ${CSV_HEADER.join(',')}; at most ${MAX_UPLOAD_RECORDS} records`,
    }),
  );
