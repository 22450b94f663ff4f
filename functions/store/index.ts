/** The store: one repository per aggregate, all over one table. */
import { AuditRepository } from './audit';
import { ChildStatusRepository } from './child-status';
import type { StoreContext } from './context';
import { CouncilRepository } from './councils';
import { PlanRepository } from './plans';
import { SupersessionRepository } from './supersessions';

export type { AuditPage, NotifyingLookup } from './audit';
export type { StoreContext } from './context';
export { createDocumentClient } from './context';
export type { AuditEntry, NhsNumberMarkers, StoredPlan } from './items';
export type { ChildView, PlanWrite, PlanWriteContext } from './plans';
export type { Supersession } from './supersessions';

export interface Store {
  plans: PlanRepository;
  statuses: ChildStatusRepository;
  audit: AuditRepository;
  councils: CouncilRepository;
  supersessions: SupersessionRepository;
}

export function createStore(context: StoreContext): Store {
  return {
    plans: new PlanRepository(context),
    statuses: new ChildStatusRepository(context),
    audit: new AuditRepository(context),
    councils: new CouncilRepository(context),
    supersessions: new SupersessionRepository(context),
  };
}
