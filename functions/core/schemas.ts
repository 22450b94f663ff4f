/**
 * Request and response schemas of API v1, defined once: handlers validate with them and
 * `npm run openapi` renders them into openapi.json.
 *
 * Written with `zod/mini`, zod's tree-shakable functional API over the same core, because every API
 * function builds all of these at cold start (docs/adr/0001). The English messages are configured here
 * because zod/mini loads no locale by default.
 */

import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { ROLES } from './claims';
import { EARLIEST_DATE, isIsoDate, isServiceDate } from './dates';
import { PLAN_TYPES } from './plans';
import { CSV_HEADER, MAX_UPLOAD_RECORDS, ROW_CODES, ROW_OUTCOMES, UPLOAD_MODES } from './uploads';

z.config(en());

export { type Claims, ClaimsSchema, ROLES, type Role } from './claims';

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
const integer = () => z.number().check(z.int());
const date = () => z.string().check(z.meta({ format: 'date' }));
const dateTime = () => z.string().check(z.meta({ format: 'date-time' }));

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

export const CouncilBodySchema = z
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
  .check(z.meta({ id: 'CouncilRequest' }));
export type CouncilBody = z.infer<typeof CouncilBodySchema>;

export const CouncilSchema = z
  .object({
    code: CouncilCodeSchema,
    name: z.string(),
    officeHoursPhone: z.nullable(z.string()),
    emergencyDutyPhone: z.string(),
  })
  .check(z.meta({ id: 'Council' }));
export type Council = z.infer<typeof CouncilSchema>;

export const PlanBodySchema = z
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
  );
export type PlanBody = z.infer<typeof PlanBodySchema>;

export const PlanSchema = z
  .object({
    nhsNumber: NhsNumberSchema,
    planType: PlanTypeSchema,
    councilCode: CouncilCodeSchema,
    startDate: date(),
    endDate: z.nullable(date()),
    version: z.string().check(z.meta({ description: 'Opaque version; send it back quoted in If-Match' })),
  })
  .check(z.meta({ id: 'Plan' }));
export type Plan = z.infer<typeof PlanSchema>;

export const PreviousAccessSchema = z
  .object({
    accessedAt: dateTime(),
    userId: z.string(),
    userName: z.string(),
    roleName: z.nullable(z.string()),
    organisation: z.string(),
    organisationName: z.nullable(z.string()),
    setting: z.nullable(z.string()),
  })
  .check(z.meta({ id: 'PreviousAccess' }));
export type PreviousAccess = z.infer<typeof PreviousAccessSchema>;

export const LookupResponseSchema = z
  .object({
    nhsNumber: NhsNumberSchema,
    supersededBy: z.optional(NhsNumberSchema),
    plans: z.array(
      z.object({
        planType: PlanTypeSchema,
        startDate: date(),
        endDate: z.nullable(date()),
        council: CouncilSchema,
      }),
    ),
    previousAccesses: z.array(PreviousAccessSchema),
  })
  .check(z.meta({ id: 'LookupResponse' }));
export type LookupResponse = z.infer<typeof LookupResponseSchema>;

/** The presence check: whether a child has a visible plan, nothing more (no council, no history). */
export const AlertResponseSchema = z
  .object({ nhsNumber: NhsNumberSchema, supersededBy: z.optional(NhsNumberSchema), hasAlert: z.boolean() })
  .check(z.meta({ id: 'AlertResponse' }));
export type AlertResponse = z.infer<typeof AlertResponseSchema>;
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

export const AuditEventSchema = z
  .object({
    eventId: z.string(),
    at: dateTime(),
    action: z.enum(AUDIT_ACTIONS),
    actor: z.object({ sub: z.string(), name: z.string(), org: z.string(), role: z.enum(ROLES) }),
    planType: z.optional(PlanTypeSchema),
    councilCode: z.optional(CouncilCodeSchema),
    outcome: z.enum(AUDIT_OUTCOMES),
    /** ACCESS_DENIED: the refusals of this caller for this subject within the minute of `at`. */
    count: z.optional(integer()),
  })
  .check(z.meta({ id: 'AuditEvent' }));
export type AuditEvent = z.infer<typeof AuditEventSchema>;

export const AuditPageSchema = z
  .object({ events: z.array(AuditEventSchema), nextCursor: z.nullable(z.string()) })
  .check(z.meta({ id: 'AuditPage' }));

export const AuditQuerySchema = z.strictObject({
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
});

/** Which of its plans a council lists: open, visible to lookups (the default), or every one still stored. */
export const PLAN_STATUSES = ['open', 'visible', 'all'] as const;
export type PlanStatus = (typeof PLAN_STATUSES)[number];
export const MAX_PLANS_PAGE = 1000;

export const CouncilPlansQuerySchema = z.strictObject({
  status: z.optional(z.enum(PLAN_STATUSES, { error: `status must be one of ${PLAN_STATUSES.join(', ')}` })),
  limit: z.optional(
    z
      .pipe(
        z
          .string()
          .check(z.regex(/^\d{1,4}$/, { error: `limit must be a whole number from 1 to ${MAX_PLANS_PAGE}` })),
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
});

export const CouncilPlansPageSchema = z
  .object({ plans: z.array(PlanSchema), nextCursor: z.nullable(z.string()) })
  .check(z.meta({ id: 'CouncilPlansPage' }));
export type CouncilPlansPage = z.infer<typeof CouncilPlansPageSchema>;

/** A child's recent accesses as a council holding one of its visible plans reads them. */
export const ChildAccessesSchema = z
  .object({
    nhsNumber: NhsNumberSchema,
    supersededBy: z.optional(NhsNumberSchema),
    previousAccesses: z.array(PreviousAccessSchema),
  })
  .check(z.meta({ id: 'ChildAccesses' }));
export type ChildAccesses = z.infer<typeof ChildAccessesSchema>;

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

export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      details: z.optional(z.array(z.object({ field: z.string(), message: z.string() }))),
    }),
  })
  .check(z.meta({ id: 'Error' }));
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** The notification a council receives on its queue when one of its children is looked up. */
export const ChildRecordAccessedSchema = z
  .strictObject({
    type: z.literal('ChildRecordAccessed'),
    eventId: z.string().check(z.minLength(1)),
    occurredAt: dateTime(),
    councilCode: CouncilCodeSchema,
    nhsNumber: NhsNumberSchema,
    planTypes: z.array(PlanTypeSchema).check(z.minLength(1)),
    accessedBy: z.strictObject({
      userId: z.string(),
      userName: z.string(),
      // Null when the viewer's token did not carry them; absent only in messages recorded before they existed.
      roleName: z.optional(z.nullable(z.string())),
      organisation: z.string(),
      organisationName: z.optional(z.nullable(z.string())),
      setting: z.nullable(z.string()),
    }),
  })
  .check(z.meta({ id: 'ChildRecordAccessed' }));
export type ChildRecordAccessed = z.infer<typeof ChildRecordAccessedSchema>;

export const NhsNumberSupersededSchema = z
  .strictObject({
    type: z.literal('NhsNumberSuperseded'),
    eventId: z.string().check(z.minLength(1)),
    occurredAt: dateTime(),
    councilCode: CouncilCodeSchema,
    oldNhsNumber: NhsNumberSchema,
    newNhsNumber: NhsNumberSchema,
  })
  .check(z.meta({ id: 'NhsNumberSuperseded' }));

export const CouncilMessageSchema = z.discriminatedUnion('type', [
  ChildRecordAccessedSchema,
  NhsNumberSupersededSchema,
]);
export type CouncilMessage = z.infer<typeof CouncilMessageSchema>;

export const SensitivityBodySchema = z
  .strictObject({ sensitive: z.boolean({ error: 'sensitive must be true or false' }) })
  .check(z.meta({ id: 'SensitivityRequest' }));
export type SensitivityBody = z.infer<typeof SensitivityBodySchema>;

export const SensitivitySchema = z
  .object({ nhsNumber: NhsNumberSchema, sensitive: z.boolean() })
  .check(z.meta({ id: 'Sensitivity' }));

export const SupersessionSchema = z
  .object({ oldNhsNumber: NhsNumberSchema, newNhsNumber: NhsNumberSchema, movedPlans: integer() })
  .check(z.meta({ id: 'Supersession' }));

const booleanFlag = (name: string) =>
  z.optional(
    z.pipe(
      z.enum(['true', 'false'], { error: `${name} must be true or false` }),
      z.transform((value) => value === 'true'),
    ),
  );

export const UploadQuerySchema = z.strictObject({
  mode: z.optional(z.enum(UPLOAD_MODES, { error: `mode must be ${UPLOAD_MODES.join(' or ')}` })),
  force: booleanFlag('force'),
  dryRun: booleanFlag('dryRun'),
});

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

export const UploadResponseSchema = z
  .object({
    uploadId: z.string(),
    mode: z.enum(UPLOAD_MODES),
    dryRun: z.optional(z.boolean()),
    status: z.enum(['ALL_ACCEPTED', 'PARTIAL', 'NONE_ACCEPTED']),
    accepted: integer(),
    rejected: integer(),
    ended: integer(),
    results: z.array(
      z.object({
        row: z.nullable(integer()),
        nhsNumber: z.nullable(z.string()),
        planType: z.nullable(z.string()),
        outcome: z.enum(ROW_OUTCOMES),
        code: z.optional(z.enum(ROW_CODES)),
        message: z.optional(z.string()),
      }),
    ),
  })
  .check(z.meta({ id: 'UploadResult' }));
export type UploadResponse = z.infer<typeof UploadResponseSchema>;
