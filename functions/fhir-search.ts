/**
 * The FHIR R4 searches (CareTeam, AuditEvent) and any other path under /FHIR/R4 that needs a token
 * (answered 404 OperationOutcome). Both searches run the REST lookup's use case.
 */
import { store } from './api-wiring';
import { ACTIVITY_NOTIFYING } from './core/access-history';
import { clock } from './core/clock';
import { todayUtc } from './core/dates';
import { lookUpChild } from './features/look-up-child';
import { recordDenial } from './features/record-denial';
import { fhirHandler } from './fhir/http';
import { auditEventBundle, careTeamBundle } from './fhir/resources';
import { isUnscheduledAccess, searchedNhsNumber, UNSCHEDULED_HEADER } from './fhir/search';

export const handler = fhirHandler(
  'fhir-search',
  async ({ route, claims: viewer, query, headers, forbid }) => {
    // The access history is a silent read whatever codes the viewer holds: audited, notifying nobody.
    if (route.operation === 'fhirAuditEventSearch') {
      const nhsNumber = searchedNhsNumber(query);
      return auditEventBundle(await lookUpChild(store(), nhsNumber, viewer, { silent: true }));
    }
    const unscheduled = isUnscheduledAccess(headers[UNSCHEDULED_HEADER.toLowerCase()]);
    if (unscheduled && !viewer.activities.includes(ACTIVITY_NOTIFYING)) {
      await forbid(
        `An unscheduled-care access needs the permission code ${ACTIVITY_NOTIFYING}; send ${UNSCHEDULED_HEADER}: false for a silent read`,
      );
    }
    const nhsNumber = searchedNhsNumber(query);
    const lookup = await lookUpChild(store(), nhsNumber, viewer, { silent: !unscheduled });
    return careTeamBundle(lookup, todayUtc(clock.now()));
  },
  { recordDenial: (claims, params) => recordDenial(store(), claims, params) },
);
