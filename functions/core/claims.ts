/**
 * The claims of a verified token. Kept apart from schemas.ts, and written with zod's tree-shakable
 * `zod/mini` API, so that the authorizer loads and builds only this schema at cold start
 * (docs/adr/0001).
 */
import * as z from 'zod/mini';

export const ROLES = ['clinician', 'council', 'auditor', 'demographics'] as const;
export type Role = (typeof ROLES)[number];

/** The form of a permission (activity) code, e.g. B0107. */
export const ACTIVITY_CODE = /^[A-Z]\d{4}$/;

/** Claims a verified token carries, as the authorizer hands them on. */
export const ClaimsSchema = z.object({
  sub: z.string().check(z.minLength(1), z.maxLength(200)),
  name: z.string().check(z.minLength(1), z.maxLength(200)),
  org: z.string().check(z.regex(/^[A-Z0-9]{3,10}$/)),
  role: z.enum(ROLES),
  /** Permission codes: one capital letter and four digits each; anything else refuses the token. */
  activities: z._default(z.array(z.string().check(z.regex(ACTIVITY_CODE))).check(z.maxLength(20)), []),
  setting: z.optional(z.string().check(z.minLength(1), z.maxLength(100))),
  /** Clinicians: the job role of the role profile signed in with, e.g. Staff Nurse. */
  roleName: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
  /** The organisation's name, shown in access histories. */
  orgName: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
});
export type Claims = z.infer<typeof ClaimsSchema>;

/** Seconds a token is still honoured after its `exp`: the issuer's clock and ours may differ. */
export const CLOCK_TOLERANCE_SECONDS = 30;

/** True while a token expiring at `exp` (seconds since the epoch) is still honoured at `now`. */
export function tokenHonoured(exp: number, now: Date): boolean {
  return now.getTime() <= (exp + CLOCK_TOLERANCE_SECONDS) * 1000;
}
