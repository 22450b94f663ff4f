import { clock } from '../core/clock';
import { todayUtc } from '../core/dates';
import { isPlanVisible } from '../core/plans';
import type { AlertResponse, Claims } from '../core/schemas';
import type { Store } from '../store';
import { auditSubjects, readFollowingSupersession } from './look-up-child';

/**
 * The presence check: whether the child has a visible plan. It reads the plans as the lookup does but
 * neither councils nor accesses, notifies nobody and is no access record; it is audited as ALERT_CHECKED.
 */
export async function checkAlert(store: Store, requested: string, viewer: Claims): Promise<AlertResponse> {
  const now = clock.now();
  const today = todayUtc(now);
  const { nhsNumber, view } = await readFollowingSupersession(store, requested);
  const hasAlert = view.plans.some((plan) => isPlanVisible(plan, today));
  await store.audit.appendAll(
    auditSubjects(requested, nhsNumber).map((subject) => ({
      subject,
      action: 'ALERT_CHECKED' as const,
      outcome: hasAlert ? ('FOUND' as const) : ('NOT_FOUND' as const),
      actor: viewer,
      at: now.toISOString(),
    })),
  );
  return {
    nhsNumber: requested,
    ...(nhsNumber !== requested ? { supersededBy: nhsNumber } : {}),
    hasAlert,
  };
}
