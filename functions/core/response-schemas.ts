/**
 * Response schemas of API v1: what `npm run openapi` renders into openapi.json and the tests check
 * answers against. No function imports this module, so none builds them (docs/adr/0051); the routes
 * name them (RESPONSE_SCHEMAS in http/response-schemas.ts).
 */
import * as z from 'zod/mini';
import { ROLES } from './claims';
import {
  AUDIT_ACTIONS,
  AUDIT_OUTCOMES,
  CouncilCodeSchema,
  date,
  dateTime,
  ERROR_CODES,
  integer,
  NhsNumberSchema,
  PlanTypeSchema,
} from './schemas';
import { ROW_CODES, ROW_OUTCOMES, UPLOAD_MODES } from './uploads';

export const CouncilSchema = z
  .object({
    code: CouncilCodeSchema,
    name: z.string(),
    officeHoursPhone: z.nullable(z.string()),
    emergencyDutyPhone: z.string(),
  })
  .check(z.meta({ id: 'Council' }));
export type Council = z.infer<typeof CouncilSchema>;

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

export const SensitivitySchema = z
  .object({ nhsNumber: NhsNumberSchema, sensitive: z.boolean() })
  .check(z.meta({ id: 'Sensitivity' }));

export const SupersessionSchema = z
  .object({ oldNhsNumber: NhsNumberSchema, newNhsNumber: NhsNumberSchema, movedPlans: integer() })
  .check(z.meta({ id: 'Supersession' }));

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
