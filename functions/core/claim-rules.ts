/**
 * What a token's claims may say, without zod: the authorizer checks claims with a validator compiled
 * from ClaimsSchema (claims.ts) and loads no zod at its cold start (docs/adr/0059).
 */

export const ROLES = ['clinician', 'council', 'auditor', 'demographics'] as const;
export type Role = (typeof ROLES)[number];

/** The form of a permission (activity) code, e.g. B0107. */
export const ACTIVITY_CODE = /^[A-Z]\d{4}$/;

/** Seconds a token is still honoured after its `exp`: the issuer's clock and ours may differ. */
export const CLOCK_TOLERANCE_SECONDS = 30;

/** True while a token expiring at `exp` (seconds since the epoch) is still honoured at `now`. */
export function tokenHonoured(exp: number, now: Date): boolean {
  return now.getTime() <= (exp + CLOCK_TOLERANCE_SECONDS) * 1000;
}
