/**
 * The claims of a verified token, as a schema: the API functions check the authorizer's context with
 * it, and `npm run validators` compiles it into the authorizer's check (docs/adr/0059). Written with
 * zod's tree-shakable `zod/mini` API (docs/adr/0001).
 */
import * as z from 'zod/mini';
import { ACTIVITY_CODE, ROLES } from './claim-rules';

export { ACTIVITY_CODE, CLOCK_TOLERANCE_SECONDS, ROLES, type Role, tokenHonoured } from './claim-rules';

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
