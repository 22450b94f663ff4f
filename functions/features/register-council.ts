import { clock } from '../core/clock';
import type { Council } from '../core/schemas';
import type { Store } from '../store';
import type { Actor } from './actor';

/** Registers a council or updates its directory entry; audited only when something changed. */
export async function registerCouncil(store: Store, council: Council, actor: Actor): Promise<Council> {
  await store.councils.put(council, {
    outcome: 'SUCCESS',
    actor,
    at: clock.now().toISOString(),
    councilCode: council.code,
  });
  return council;
}

/**
 * Deployed, only a council the stage gives a queue (in some region) may register: a registered council
 * can publish plans, and lookups then notify it, so it must have somewhere to be notified. Locally
 * (no stage list) every council may.
 */
export function registrationRefusal(
  stageCouncils: ReadonlySet<string> | undefined,
  councilCode: string,
): string | undefined {
  if (!stageCouncils || stageCouncils.has(councilCode)) return undefined;
  return `Council ${councilCode} is not set up in this deployment (it has no notification queue): ask the service's operations team to add it to the stage configuration`;
}
