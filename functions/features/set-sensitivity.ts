import { clock } from '../core/clock';
import type { Store } from '../store';
import type { Actor } from './actor';

/** Records the demographics service's sensitivity flag (audited only when it changes). */
export async function setSensitivity(store: Store, nhsNumber: string, sensitive: boolean, actor: Actor) {
  await store.statuses.setSensitivity(nhsNumber, sensitive, {
    subject: nhsNumber,
    action: 'SENSITIVITY_CHANGED',
    outcome: 'SUCCESS',
    actor,
    at: clock.now().toISOString(),
  });
  return { nhsNumber, sensitive };
}
