/**
 * What the FHIR interface is: its media type, the identifier system and search parameter its searches
 * take, and the CapabilityStatement that describes them. Nothing else is imported here, so the
 * metadata function's bundle is this module and its headers (ADR 0057).
 */
import type { CapabilityStatement } from './types';

export const FHIR_MEDIA_TYPE = 'application/fhir+json';
export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
/** The one search parameter both searches take. */
export const SEARCH_PARAMETER = 'patient:identifier';

export function capabilityStatement(): CapabilityStatement {
  const search = (type: 'CareTeam' | 'AuditEvent', what: string) => ({
    type,
    interaction: [{ code: 'search-type' as const }],
    searchParam: [
      {
        name: 'patient',
        type: 'reference' as const,
        documentation: `${what}: ${SEARCH_PARAMETER}=${NHS_NUMBER_SYSTEM}|{NHS number}`,
      },
    ],
  });
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-12-07',
    publisher: 'Child protection information sharing',
    description:
      'Child protection information sharing: the plans of a child (CareTeam) and its recent unscheduled-care accesses (AuditEvent), by NHS number',
    kind: 'instance',
    implementation: { description: 'Child protection information sharing, FHIR R4 interface' },
    fhirVersion: '4.0.1',
    format: [FHIR_MEDIA_TYPE, 'json'],
    rest: [
      {
        mode: 'server',
        security: {
          description:
            'Bearer tokens (Authorization: Bearer …) as for the REST API; a clinician role with permission code B0107 or B0170',
        },
        resource: [
          search(
            'CareTeam',
            'One CareTeam per visible plan; header IsUnscheduledAccessEvent true (default) notifies, false is a silent read',
          ),
          search(
            'AuditEvent',
            'The 25 most recent unscheduled-care accesses, with the viewers as PractitionerRoles',
          ),
        ],
      },
    ],
  };
}
