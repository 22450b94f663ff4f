/**
 * The pure mapping of the lookup's answer to FHIR R4 resources, following the national CP-IS FHIR
 * API: CareTeam per visible plan, AuditEvent per earlier unscheduled-care access with the viewer's
 * PractitionerRole. No AWS imports, no I/O.
 */
import { createHash } from 'node:crypto';
import type { PlanType } from '../core/plans';
import type { LookupResponse, PreviousAccess } from '../core/schemas';
import { NHS_NUMBER_SYSTEM } from './capability-statement';
import type { AuditEvent, Bundle, CareTeam, ContactPoint, PractitionerRole } from './types';

export { FHIR_BASE_PATH } from '../http/routes';
export const ODS_CODE_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
export const SDS_USER_SYSTEM = 'https://fhir.nhs.uk/Id/sds-user-id';
export const SNOMED_SYSTEM = 'http://snomed.info/sct';

/** The SNOMED CT concept of each plan type, as the contract lists them. */
export const PLAN_CATEGORIES: Record<PlanType, { code: string; display: string }> = {
  CPP: { code: '342191000000101', display: 'Subject to child protection plan' },
  LAC: { code: '764841000000100', display: 'Looked after child' },
  UCPP: { code: '818901000000100', display: 'Unborn child subject to child protection plan' },
};

/**
 * A stable id (UUID-shaped) for what `parts` name: the same plan or access gets the same id in every
 * search, and an id never spells the NHS number it was made from.
 */
export function stableId(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const fullUrl = (id: string) => `urn:uuid:${id}`;

type VisiblePlan = LookupResponse['plans'][number];

export function careTeam(nhsNumber: string, plan: VisiblePlan, today: string): CareTeam {
  const { council } = plan;
  const telecom: ContactPoint[] = [];
  if (council.officeHoursPhone)
    telecom.push({ system: 'phone', value: council.officeHoursPhone, use: 'work' });
  if (council.emergencyDutyPhone)
    telecom.push({ system: 'phone', value: council.emergencyDutyPhone, use: 'mobile' });
  const category = PLAN_CATEGORIES[plan.planType];
  return {
    resourceType: 'CareTeam',
    id: stableId('CareTeam', nhsNumber, council.code, plan.planType),
    // A plan ended but still visible (12 months, or 28 days for UCPP) is shown as no longer active.
    status: plan.endDate !== null && plan.endDate < today ? 'inactive' : 'active',
    category: [{ coding: [{ system: SNOMED_SYSTEM, ...category }], text: category.display }],
    name: council.name,
    subject: { identifier: { system: NHS_NUMBER_SYSTEM, value: nhsNumber } },
    period: { start: plan.startDate, ...(plan.endDate ? { end: plan.endDate } : {}) },
    managingOrganization: [
      { identifier: { system: ODS_CODE_SYSTEM, value: council.code }, display: council.name },
    ],
    ...(telecom.length > 0 ? { telecom } : {}),
  };
}

/**
 * The CareTeam search's answer: one CareTeam per visible plan. A superseded number answers for its
 * replacement, so the subject is the number the plans are held under.
 */
export function careTeamBundle(lookup: LookupResponse, today: string, bundleId?: string): Bundle {
  const subject = lookup.supersededBy ?? lookup.nhsNumber;
  const teams = lookup.plans.map((plan) => careTeam(subject, plan, today));
  return searchset(
    teams.map((resource) => ({
      fullUrl: fullUrl(resource.id as string),
      resource,
      search: { mode: 'match' },
    })),
    teams.length,
    bundleId,
  );
}

const viewerKey = (access: PreviousAccess) => [
  access.userId,
  access.userName,
  access.roleName ?? '',
  access.organisation,
  access.organisationName ?? '',
];

export function practitionerRole(access: PreviousAccess): PractitionerRole {
  return {
    resourceType: 'PractitionerRole',
    id: stableId('PractitionerRole', ...viewerKey(access)),
    practitioner: { identifier: { system: SDS_USER_SYSTEM, value: access.userId }, display: access.userName },
    organization: {
      identifier: { system: ODS_CODE_SYSTEM, value: access.organisation },
      display: access.organisationName ?? access.organisation,
    },
    ...(access.roleName ? { code: [{ text: access.roleName }] } : {}),
  };
}

export function auditEvent(nhsNumber: string, access: PreviousAccess, roleId: string): AuditEvent {
  return {
    resourceType: 'AuditEvent',
    id: stableId('AuditEvent', nhsNumber, access.accessedAt, ...viewerKey(access)),
    type: {
      system: 'http://dicom.nema.org/resources/ontology/DCM',
      code: '110110',
      display: 'Patient Record',
    },
    action: 'R',
    recorded: access.accessedAt,
    outcome: '0',
    agent: [{ who: { reference: fullUrl(roleId) }, requestor: true }],
    source: {
      ...(access.setting ? { site: access.setting } : {}),
      observer: { display: 'Child protection information sharing' },
    },
    entity: [{ what: { identifier: { system: NHS_NUMBER_SYSTEM, value: nhsNumber } } }],
  };
}

/**
 * The AuditEvent search's answer: the access history (the lookup's `previousAccesses`, newest
 * first), one AuditEvent each, then each distinct viewer's PractitionerRole once, included.
 */
export function auditEventBundle(lookup: LookupResponse, bundleId?: string): Bundle {
  const subject = lookup.supersededBy ?? lookup.nhsNumber;
  const roles = new Map<string, PractitionerRole>();
  const events = lookup.previousAccesses.map((access) => {
    const role = practitionerRole(access);
    const id = role.id as string;
    if (!roles.has(id)) roles.set(id, role);
    return auditEvent(subject, access, id);
  });
  return searchset(
    [
      ...events.map((resource) => ({
        fullUrl: fullUrl(resource.id as string),
        resource,
        search: { mode: 'match' as const },
      })),
      ...[...roles.values()].map((resource) => ({
        fullUrl: fullUrl(resource.id as string),
        resource,
        search: { mode: 'include' as const },
      })),
    ],
    events.length,
    bundleId,
  );
}

function searchset(entries: NonNullable<Bundle['entry']>, total: number, id?: string): Bundle {
  // FHIR JSON has no empty arrays: a search without matches has no `entry` at all.
  return {
    resourceType: 'Bundle',
    ...(id ? { id } : {}),
    type: 'searchset',
    total,
    ...(entries.length > 0 ? { entry: entries } : {}),
  };
}
