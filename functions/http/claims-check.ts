/**
 * The authorizer's check of a verified token's claims, with a validator compiled from ClaimsSchema
 * (docs/adr/0059): what the schema accepts, read as it reads it, without loading zod at the
 * authorizer's cold start. test/unit/claims-check.test.ts holds the two to the same answers.
 */
import type { Claims } from '../core/claims';
import { Claims as validClaims } from './claims-validator.generated';

type Given = Omit<Claims, 'activities'> & { activities?: string[] };

/** The claims `payload` carries (its other fields left out), or undefined when ClaimsSchema refuses it. */
export function checkClaims(payload: unknown): Claims | undefined {
  if (!validClaims(payload)) return undefined;
  const { sub, name, org, role, activities = [], setting, roleName, orgName } = payload as Given;
  return {
    sub,
    name,
    org,
    role,
    activities: [...activities],
    ...(setting !== undefined && { setting }),
    ...(roleName !== undefined && { roleName }),
    ...(orgName !== undefined && { orgName }),
  };
}
