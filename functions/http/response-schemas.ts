/**
 * The response schemas the routes name, by name: for the OpenAPI document and the tests only. The
 * route table holds names, not schemas, so that no function builds a response schema (docs/adr/0051).
 */
import type { ZodMiniType } from 'zod/mini';
import {
  AlertResponseSchema,
  AuditPageSchema,
  ChildAccessesSchema,
  CouncilPlansPageSchema,
  CouncilSchema,
  LookupResponseSchema,
  PlanSchema,
  SensitivitySchema,
  SupersessionSchema,
  UploadResponseSchema,
} from '../core/response-schemas';
import { fhirBundleSchema, fhirCapabilityStatementSchema } from '../fhir/schemas';

export const RESPONSE_SCHEMAS = {
  Council: CouncilSchema,
  Plan: PlanSchema,
  LookupResponse: LookupResponseSchema,
  AlertResponse: AlertResponseSchema,
  AuditPage: AuditPageSchema,
  UploadResult: UploadResponseSchema,
  Supersession: SupersessionSchema,
  Sensitivity: SensitivitySchema,
  CouncilPlansPage: CouncilPlansPageSchema,
  ChildAccesses: ChildAccessesSchema,
  FhirBundle: fhirBundleSchema(),
  FhirCapabilityStatement: fhirCapabilityStatementSchema(),
} satisfies Record<string, ZodMiniType>;

/** A response schema's name: its component's name in openapi.json. */
export type ResponseSchemaName = keyof typeof RESPONSE_SCHEMAS;
