/**
 * The FHIR interface's request and response shapes as the OpenAPI document shows them. The resources
 * themselves are FHIR R4's (functions/fhir/types.ts); these only name them and their search parameter.
 */
import * as z from 'zod/mini';

export const FhirSearchQuerySchema = z.strictObject({
  'patient:identifier': z.string().check(
    z.meta({
      description: 'The NHS number as a token: https://fhir.nhs.uk/Id/nhs-number|{NHS number}',
      example: 'https://fhir.nhs.uk/Id/nhs-number|9990000018',
    }),
  ),
});

const fhirResource = (id: string, resourceType: string, description: string) =>
  z
    .looseObject({ resourceType: z.literal(resourceType) })
    .check(z.meta({ id, description: `${description} (FHIR R4, application/fhir+json)` }));

export const FhirBundleSchema = fhirResource(
  'FhirBundle',
  'Bundle',
  'A searchset Bundle with total; entries with search.mode match (and include for PractitionerRoles)',
);
export const FhirCapabilityStatementSchema = fhirResource(
  'FhirCapabilityStatement',
  'CapabilityStatement',
  'FHIR 4.0.1, JSON, the CareTeam and AuditEvent searches',
);
export const FhirOperationOutcomeSchema = fhirResource(
  'FhirOperationOutcome',
  'OperationOutcome',
  'issue[0].details.coding[0] in https://fhir.nhs.uk/CodeSystem/England-SpineErrorOrWarningCode',
);
