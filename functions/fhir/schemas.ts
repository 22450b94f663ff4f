/**
 * The FHIR interface's request and response shapes as the OpenAPI document shows them. The resources
 * themselves are FHIR R4's (functions/fhir/types.ts); these only name them and their search parameter.
 * Each is built on first use: the search function needs only the query, and only the OpenAPI document
 * the resources (docs/adr/0051).
 */
import * as z from 'zod/mini';
import { lazily } from '../core/lazily';

export const fhirSearchQuerySchema = lazily(() =>
  z.strictObject({
    'patient:identifier': z.string().check(
      z.meta({
        description: 'The NHS number as a token: https://fhir.nhs.uk/Id/nhs-number|{NHS number}',
        example: 'https://fhir.nhs.uk/Id/nhs-number|9990000018',
      }),
    ),
  }),
);

const fhirResource = (id: string, resourceType: string, description: string) =>
  lazily(() =>
    z
      .looseObject({ resourceType: z.literal(resourceType) })
      .check(z.meta({ id, description: `${description} (FHIR R4, application/fhir+json)` })),
  );

export const fhirBundleSchema = fhirResource(
  'FhirBundle',
  'Bundle',
  'A searchset Bundle with total; entries with search.mode match (and include for PractitionerRoles)',
);
export const fhirCapabilityStatementSchema = fhirResource(
  'FhirCapabilityStatement',
  'CapabilityStatement',
  'FHIR 4.0.1, JSON, the CareTeam and AuditEvent searches',
);
export const fhirOperationOutcomeSchema = fhirResource(
  'FhirOperationOutcome',
  'OperationOutcome',
  'issue[0].details.coding[0] in https://fhir.nhs.uk/CodeSystem/England-SpineErrorOrWarningCode',
);
