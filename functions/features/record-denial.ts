import { clock } from '../core/clock';
import { isValidNhsNumber } from '../core/nhs-number';
import { isPlanType } from '../core/plans';
import { CouncilCodeSchema } from '../core/schemas';
import type { Store } from '../store';
import type { Actor } from './actor';

/**
 * A refused call on a valid NHS number is itself an audited event, under that number; repeated
 * refusals of one caller within a minute are one event with a count.
 */
export async function recordDenial(
  store: Store,
  actor: Actor,
  params: Record<string, string>,
): Promise<void> {
  const nhsNumber = params.nhsNumber ?? params.oldNhsNumber;
  if (nhsNumber === undefined || !isValidNhsNumber(nhsNumber)) return;
  await store.audit.recordRefusal({
    subject: nhsNumber,
    action: 'ACCESS_DENIED',
    outcome: 'DENIED',
    actor,
    at: clock.now().toISOString(),
    planType: params.planType && isPlanType(params.planType) ? params.planType : undefined,
    councilCode:
      params.councilCode && CouncilCodeSchema.safeParse(params.councilCode).success
        ? params.councilCode
        : undefined,
  });
}
