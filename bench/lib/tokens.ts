/** Tokens and claims of the benchmark's callers, signed with the local development key. */
import { signDevToken } from '../../local/dev-key';
import type { BenchClaims } from './direct-ops';

export const clinicianClaims = (activities: string[]): BenchClaims => ({
  sub: 'bench-clinician',
  name: 'Dr Bench Mark',
  org: 'RBENCH',
  role: 'clinician',
  activities,
  setting: 'emergency-department',
});

export const councilClaims = (code: string): BenchClaims => ({
  sub: `${code}-system`,
  name: `${code} case system`,
  org: code,
  role: 'council',
  activities: [],
});

/** Tokens live 12 hours (the verifier's maximum age): longer than any run. */
export function signToken(claims: BenchClaims): Promise<string> {
  return signDevToken(
    {
      sub: claims.sub,
      name: claims.name,
      org: claims.org,
      role: claims.role,
      activities: claims.activities,
      ...(claims.setting ? { setting: claims.setting } : {}),
    },
    { ttlSeconds: 12 * 3600 - 60 },
  );
}
