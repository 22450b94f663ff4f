import { lookupKind } from '../core/access-history';
import { clock } from '../core/clock';
import { todayUtc } from '../core/dates';
import { comparePlansForDisplay, isPlanVisible, type PlanType } from '../core/plans';
import type { ChildRecordAccessed, Claims, Council, LookupResponse } from '../core/schemas';
import type { ChildView, Store } from '../store';
import { newId } from '../store/ids';

/** Supersession chains longer than this are treated as ending at the last number read. */
const MAX_SUPERSESSION_HOPS = 5;

/**
 * The NHS numbers a read through `requested` is about: through a superseded number, both it and its
 * replacement, so that each one's audit trail shows the read.
 */
export const auditSubjects = (requested: string, nhsNumber: string): string[] =>
  nhsNumber === requested ? [requested] : [requested, nhsNumber];

export async function readFollowingSupersession(
  store: Store,
  requested: string,
): Promise<{ nhsNumber: string; view: ChildView }> {
  const seen = new Set([requested]);
  let nhsNumber = requested;
  let view = await store.plans.readChild(requested);
  while (view.supersededBy && !seen.has(view.supersededBy) && seen.size <= MAX_SUPERSESSION_HOPS) {
    nhsNumber = view.supersededBy;
    seen.add(nhsNumber);
    view = await store.plans.readChild(nhsNumber);
  }
  return { nhsNumber, view };
}

function unknownCouncil(code: string): Council {
  return { code, name: code, officeHoursPhone: null, emergencyDutyPhone: '' };
}

function accessMessages(
  visible: readonly { councilCode: string; planType: PlanType }[],
  nhsNumber: string,
  viewer: Claims,
  at: string,
): ChildRecordAccessed[] {
  const planTypesByCouncil = new Map<string, PlanType[]>();
  for (const plan of visible) {
    planTypesByCouncil.set(plan.councilCode, [
      ...(planTypesByCouncil.get(plan.councilCode) ?? []),
      plan.planType,
    ]);
  }
  return [...planTypesByCouncil].map(([councilCode, planTypes]) => ({
    type: 'ChildRecordAccessed',
    eventId: newId(),
    occurredAt: at,
    councilCode,
    nhsNumber,
    planTypes: [...planTypes].sort(),
    accessedBy: {
      userId: viewer.sub,
      userName: viewer.name,
      roleName: viewer.roleName ?? null,
      organisation: viewer.org,
      organisationName: viewer.orgName ?? null,
      setting: viewer.setting ?? null,
    },
  }));
}

export interface LookupOptions {
  /**
   * A silent read even for a B0107 holder: the FHIR interface's `IsUnscheduledAccessEvent: false` and
   * its AuditEvent search. Audited as LOOKUP_SILENT; notifies nobody; never an access record.
   */
  silent?: boolean;
}

/**
 * A clinician's lookup: the child's visible plans with their councils' contacts and, with plans, the
 * recent accesses. Always audited; a notifying lookup that finds plans is itself the access record and
 * carries one message per council holding a visible plan.
 */
export async function lookUpChild(
  store: Store,
  requested: string,
  viewer: Claims,
  options: LookupOptions = {},
): Promise<LookupResponse> {
  const notifying = !options.silent && lookupKind(viewer.activities) === 'NOTIFYING';
  const now = clock.now();
  const at = now.toISOString();
  const today = todayUtc(now);

  const { nhsNumber, view } = await readFollowingSupersession(store, requested);
  const visible = view.plans.filter((plan) => isPlanVisible(plan, today)).sort(comparePlansForDisplay);
  // The access history is shown only with plans; it includes those carried over from numbers this one
  // replaced.
  const [councils, accesses] =
    visible.length > 0
      ? await Promise.all([
          store.councils.getMany(visible.map((plan) => plan.councilCode)),
          store.audit.readAccesses(nhsNumber),
        ])
      : [new Map<string, Council>(), []];

  const subjects = auditSubjects(requested, nhsNumber);
  const audit = {
    action: notifying ? ('LOOKUP_NOTIFYING' as const) : ('LOOKUP_SILENT' as const),
    outcome: visible.length > 0 ? ('FOUND' as const) : ('NOT_FOUND' as const),
    actor: viewer,
    at,
  };
  if (notifying && visible.length > 0) {
    await store.audit.recordNotifyingLookup({
      access: { ...audit, subject: nhsNumber },
      setting: viewer.setting ?? null,
      roleName: viewer.roleName ?? null,
      organisationName: viewer.orgName ?? null,
      others: subjects.filter((subject) => subject !== nhsNumber).map((subject) => ({ ...audit, subject })),
      messages: accessMessages(visible, nhsNumber, viewer, at),
    });
  } else {
    await store.audit.appendAll(subjects.map((subject) => ({ ...audit, subject })));
  }

  return {
    nhsNumber: requested,
    ...(nhsNumber !== requested ? { supersededBy: nhsNumber } : {}),
    plans: visible.map((plan) => ({
      planType: plan.planType,
      startDate: plan.startDate,
      endDate: plan.endDate,
      council: councils.get(plan.councilCode) ?? unknownCouncil(plan.councilCode),
    })),
    previousAccesses: accesses,
  };
}
