/**
 * The benchmark's callers: the standard claims of testkit/tokens.ts under identities of their own, so
 * that the benchmark's audit events are told apart from the tests'. Sign them with longLivedToken.
 */
import { type Claims, claims } from '../../testkit/tokens';

export const clinicianClaims = (activities: string[]): Claims =>
  claims.clinician(activities, { sub: 'bench-clinician', name: 'Dr Bench Mark', org: 'RBENCH' });

export const councilClaims = (code: string): Claims => claims.council(code);

export const auditorClaims: Claims = claims.auditor({ sub: 'bench-ig', name: 'Bench IG' });

export const demographicsClaims: Claims = claims.demographics({
  sub: 'bench-pds',
  name: 'Bench demographics feed',
});
