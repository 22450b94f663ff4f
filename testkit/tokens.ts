/**
 * Claims of the standard callers, by role, and real tokens for them from the local identity provider
 * (local/identity-provider.ts) whose address is in LOCAL_IDENTITY_ORIGIN (set by the integration
 * tests' global setup and by the benchmark runner): clinicians sign in through the authorization code
 * flow, systems use client credentials.
 */
import { type Caller, forgeToken, obtainToken } from '../local/identity-tokens';

export type { Caller };
/** A caller's claims as tokens are asked for (the former name, kept for the tests that use it). */
export type DevTokenClaims = Caller;

/** A caller's claims, its permission codes always listed (empty for the roles that have none). */
export interface Claims extends Caller {
  activities: string[];
}

type Extra = Partial<Caller>;

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

/** The local identity provider's address, from LOCAL_IDENTITY_ORIGIN. */
export function identityOrigin(): string {
  const origin = process.env.LOCAL_IDENTITY_ORIGIN;
  if (!origin)
    throw new Error(
      'LOCAL_IDENTITY_ORIGIN is not set: tokens come from the local identity provider (the integration tests set it)',
    );
  return origin;
}

/** Tokens already obtained, by provider and caller: a sign-in per token would slow the suite. */
const cache = new Map<string, { token: Promise<string>; at: number }>();
/** A cached token is used for half its hour at most, so no test receives one about to expire. */
const REUSE_MS = 30 * 60_000;

/** A token for `caller` from the local provider: an hour's, unless `ttlSeconds` says otherwise. */
export function tokenFor(caller: Caller, options: { ttlSeconds?: number } = {}): Promise<string> {
  const origin = identityOrigin();
  const key = JSON.stringify([origin, options.ttlSeconds, caller]);
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < REUSE_MS) return hit.token;
  const token = obtainToken(origin, caller, options);
  cache.set(key, { token, at: Date.now() });
  token.catch(() => cache.delete(key));
  return token;
}

/** Tokens of the standard callers, living an hour. */
export const tokens = {
  council: (code: string, extra: Extra = {}) => tokenFor(claims.council(code, extra)),
  clinician: (activities: string[], extra: Extra = {}) => tokenFor(claims.clinician(activities, extra)),
  auditor: (extra: Extra = {}) => tokenFor(claims.auditor(extra)),
  demographics: (extra: Extra = {}) => tokenFor(claims.demographics(extra)),
};

/** A token living 12 hours less a minute (the verifier's maximum age): longer than any run. */
export function longLivedToken(caller: Caller): Promise<string> {
  return tokenFor(caller, { ttlSeconds: 12 * 3600 - 60 });
}

/**
 * For tests of the verifier's own checks (expiry, audience, unknown roles): any payload signed with an
 * issuer's current key, which the provider would never issue as such. `iss` defaults to that issuer.
 */
export function forgedToken(
  issuer: 'cis2' | 'systems',
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const origin = identityOrigin();
  return forgeToken(origin, issuer, { iss: `${origin}/${issuer}`, ...payload }, header);
}

/**
 * A token for `caller` as its issuer would sign it (cis2 for clinicians, systems otherwise), with the
 * times, issuer or audience a test of the verifier's checks needs; clinicians' claims ride in the
 * token itself, so such a token is refused at UserInfo even when every other check passes.
 */
export function forgedTokenFor(
  caller: Caller & { role: string },
  options: {
    issuedAt?: number;
    ttlSeconds?: number;
    notBefore?: number;
    issuer?: string;
    audience?: string;
  } = {},
): Promise<string> {
  const issuedAt = options.issuedAt ?? Math.floor(Date.now() / 1000);
  const { sub, ...rest } = caller;
  return forgedToken(caller.role === 'clinician' ? 'cis2' : 'systems', {
    ...rest,
    sub,
    aud: options.audience ?? 'child-protection-sharing',
    iat: issuedAt,
    exp: issuedAt + (options.ttlSeconds ?? 3600),
    ...(caller.role === 'clinician' ? { acr: 'AAL3_ANY' } : {}),
    ...(options.notBefore !== undefined ? { nbf: options.notBefore } : {}),
    ...(options.issuer !== undefined ? { iss: options.issuer } : {}),
  });
}
