/** The FHIR R4 (4.0.1) resources this interface returns, from the maintained typings of the base specification. */
import type {
  AuditEvent,
  CapabilityStatement,
  CareTeam,
  ContactPoint,
  OperationOutcome,
  PractitionerRole,
  Bundle as R4Bundle,
} from 'fhir/r4';

export type { AuditEvent, CapabilityStatement, CareTeam, ContactPoint, OperationOutcome, PractitionerRole };
export type Resource = CareTeam | PractitionerRole | AuditEvent | OperationOutcome | CapabilityStatement;
export type Bundle = R4Bundle<Resource>;
