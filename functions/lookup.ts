import { lookupKind } from './core/access-history';
import { clock } from './core/clock';
import { todayUtc } from './core/dates';
import { comparePlansForDisplay, isPlanVisible, type PlanType } from './core/plans';
import type { ChildRecordAccessed, Council, LookupResponse } from './core/schemas';
import { apiHandler } from './http/api-handler';
import { newId } from './store/ids';
import {
  appendAudits,
  type ChildView,
  getCouncils,
  readAccesses,
  readChild,
  recordNotifyingLookup,
} from './store/table';

/** Supersession chains longer than this are treated as ending at the last number read. */
const MAX_SUPERSESSION_HOPS = 5;

async function readFollowingSupersession(requested: string): Promise<{ nhsNumber: string; view: ChildView }> {
  const seen = new Set([requested]);
  let nhsNumber = requested;
  let view = await readChild(requested);
  while (view.supersededBy && !seen.has(view.supersededBy) && seen.size <= MAX_SUPERSESSION_HOPS) {
    nhsNumber = view.supersededBy;
    seen.add(nhsNumber);
    view = await readChild(nhsNumber);
  }
  return { nhsNumber, view };
}

function unknownCouncil(code: string): Council {
  return { code, name: code, officeHoursPhone: null, emergencyDutyPhone: '' };
}

export const handler = apiHandler('lookup', async ({ params, claims }) => {
  const requested = params.nhsNumber as string;
  const notifying = lookupKind(claims.activities) === 'NOTIFYING';
  const now = clock.now();
  const at = now.toISOString();
  const today = todayUtc(now);

  const { nhsNumber, view } = await readFollowingSupersession(requested);
  const visible = view.plans.filter((plan) => isPlanVisible(plan, today)).sort(comparePlansForDisplay);
  // The access history is shown only with plans; it includes accesses under numbers this one replaced.
  const [councils, accesses] =
    visible.length > 0
      ? await Promise.all([
          getCouncils(visible.map((plan) => plan.councilCode)),
          readAccesses([nhsNumber, ...view.replaces]),
        ])
      : [new Map<string, Council>(), []];

  // A lookup through a superseded number is about both numbers: each one's audit trail shows it.
  const subjects = nhsNumber === requested ? [requested] : [requested, nhsNumber];
  const audit = {
    action: notifying ? ('LOOKUP_NOTIFYING' as const) : ('LOOKUP_SILENT' as const),
    outcome: visible.length > 0 ? ('FOUND' as const) : ('NOT_FOUND' as const),
    actor: claims,
    at,
  };
  if (notifying && visible.length > 0) {
    const planTypesByCouncil = new Map<string, PlanType[]>();
    for (const plan of visible) {
      planTypesByCouncil.set(plan.councilCode, [
        ...(planTypesByCouncil.get(plan.councilCode) ?? []),
        plan.planType,
      ]);
    }
    const messages = [...planTypesByCouncil].map(
      ([councilCode, planTypes]): ChildRecordAccessed => ({
        type: 'ChildRecordAccessed',
        eventId: newId(),
        occurredAt: at,
        councilCode,
        nhsNumber,
        planTypes: [...planTypes].sort(),
        accessedBy: {
          userId: claims.sub,
          userName: claims.name,
          organisation: claims.org,
          setting: claims.setting ?? null,
        },
      }),
    );
    await recordNotifyingLookup({
      access: { ...audit, subject: nhsNumber },
      setting: claims.setting ?? null,
      others: subjects.filter((subject) => subject !== nhsNumber).map((subject) => ({ ...audit, subject })),
      messages,
    });
  } else {
    await appendAudits(subjects.map((subject) => ({ ...audit, subject })));
  }

  const body: LookupResponse = {
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
  return { status: 200, body };
});
