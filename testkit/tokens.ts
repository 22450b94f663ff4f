/**
 * Claims of the standard callers, by role, and tokens signed for them with the local development key
 * (local/dev-key.ts), which only the local runtime accepts.
 */
import { type DevTokenClaims, signDevToken } from '../local/dev-key';

/** A caller's claims, its permission codes always listed (empty for the roles that have none). */
export interface Claims extends DevTokenClaims {
  activities: string[];
}

type Extra = Partial<DevTokenClaims>;

/** The standard callers' claims; `extra` replaces any of them. */
export const claims = {
  /** A council's case system. */
  council: (code: string, extra: Extra = {}): Claims => ({
    sub: `${code}-system`,
    name: `${code} case system`,
    org: code,
    role: 'council',
    activities: [],
    ...extra,
  }),
  /** An emergency department clinician holding the given permission codes (B0107, B0170). */
  clinician: (activities: string[], extra: Extra = {}): Claims => ({
    sub: 'u1',
    name: 'Dr Ada Lovelace',
    org: 'RXX01',
    role: 'clinician',
    activities,
    setting: 'emergency-department',
    ...extra,
  }),
  auditor: (extra: Extra = {}): Claims => ({
    sub: 'ig1',
    name: 'Information Governance',
    org: 'X26',
    role: 'auditor',
    activities: [],
    ...extra,
  }),
  demographics: (extra: Extra = {}): Claims => ({
    sub: 'pds-feed',
    name: 'Demographics feed',
    org: 'X09',
    role: 'demographics',
    activities: [],
    ...extra,
  }),
};

/** Tokens of the standard callers, living the development key's default hour. */
export const tokens = {
  council: (code: string, extra: Extra = {}) => signDevToken(claims.council(code, extra)),
  clinician: (activities: string[], extra: Extra = {}) => signDevToken(claims.clinician(activities, extra)),
  auditor: (extra: Extra = {}) => signDevToken(claims.auditor(extra)),
  demographics: (extra: Extra = {}) => signDevToken(claims.demographics(extra)),
};

/** A token living 12 hours less a minute (the verifier's maximum age): longer than any run. */
export function signLongLivedToken(caller: DevTokenClaims): Promise<string> {
  return signDevToken(caller, { ttlSeconds: 12 * 3600 - 60 });
}
