import { routeHandler, store } from './api-wiring';
import { recordDenial } from './features/record-denial';
import { accessesRefusal, noVisiblePlan, viewChildAccesses } from './features/view-child-accesses';
import { apiErrors } from './http/errors';

/** A child's recent accesses, for a council holding one of its visible plans (403 otherwise, audited). */
export const handler = routeHandler(
  'council-accesses',
  async ({ params, claims }) => {
    const councilCode = params.councilCode as string;
    const accesses = await viewChildAccesses(store(), councilCode, params.nhsNumber as string, claims);
    if (accesses) return { status: 200, body: accesses };
    // The plan stopped being visible between the check below and this read: refused and audited alike.
    await recordDenial(store(), claims, params);
    throw apiErrors.forbidden(noVisiblePlan(councilCode));
  },
  // Whether the council holds a visible plan is a permission, checked before the input (contract order).
  {
    authorize: (_claims, params) =>
      accessesRefusal(store(), params.councilCode as string, params.nhsNumber as string),
  },
);
