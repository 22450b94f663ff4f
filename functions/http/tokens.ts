import {
  createRemoteJWKSet,
  decodeJwt,
  importJWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import { CLOCK_TOLERANCE_SECONDS, ROLES } from '../core/claims';
import { type IssuerConfig, IssuersSchema, wholeOrgPattern } from '../environment';

/** The issuer of tokens signed by the development key; accepted only outside Lambda. */
export const LOCAL_ISSUER = 'urn:child-protection-sharing:local-development';
export const ALGORITHMS = ['RS256', 'PS256', 'ES256'];
/** Tokens living longer than this are refused even if their exp is later. */
const MAX_TOKEN_AGE = '12h';

export type { IssuerConfig };

export function parseIssuers(json: string): IssuerConfig[] {
  return IssuersSchema.parse(JSON.parse(json));
}

/** Why a token was refused: safe to log, it names no person and repeats nothing from the token. */
export type Refusal =
  | 'malformed-token'
  | 'unknown-issuer'
  | 'verification-failed'
  | 'role-not-allowed-for-issuer'
  | 'org-not-allowed-for-issuer';

export type Verification = { payload: JWTPayload } | { refused: Refusal };

interface TrustedIssuer {
  audience: string;
  getKey: JWTVerifyGetKey;
  /** The roles its tokens may assert. */
  roles: ReadonlySet<string>;
  /** What the token's whole `org` must match; undefined (the local development issuer only) allows any. */
  org: RegExp | undefined;
}

/** An issuer's keys, by default fetched from its JWKS URL. */
export type KeySource = (issuer: IssuerConfig) => JWTVerifyGetKey;
const remoteKeySet: KeySource = (issuer) => createRemoteJWKSet(new URL(issuer.jwksUri));

export class TokenVerifier {
  private readonly issuers = new Map<string, TrustedIssuer>();

  /** `keySource` replaces fetching each issuer's JWKS, for tests only; functions never pass it. */
  constructor(
    issuers: IssuerConfig[],
    audience: string,
    local: { localKey?: string; deployed: boolean },
    keySource: KeySource = remoteKeySet,
  ) {
    for (const issuer of issuers) {
      this.issuers.set(issuer.issuer, {
        audience: issuer.audience ?? audience,
        getKey: keySource(issuer),
        roles: new Set(issuer.roles),
        org: wholeOrgPattern(issuer.orgPattern),
      });
    }
    if (local.localKey) {
      if (local.deployed)
        throw new Error('The local development signing key cannot be used in a deployed function');
      const key = importJWK(JSON.parse(local.localKey), 'ES256');
      // The development issuer may assert every role for any organisation: `npm start` and the tests
      // sign whatever caller they need with it. No deployed function ever trusts it (refused above).
      this.issuers.set(LOCAL_ISSUER, { audience, getKey: () => key, roles: new Set(ROLES), org: undefined });
    }
  }

  /** The verified payload, or undefined for any token that fails a check. */
  async verify(token: string): Promise<JWTPayload | undefined> {
    const verification = await this.check(token);
    return 'payload' in verification ? verification.payload : undefined;
  }

  /**
   * The verified payload, or why the token is refused: signature and standard claims first, then the
   * issuer's binding, so a token asserting a role or organisation its issuer may not assert is refused
   * whatever its signature.
   */
  async check(token: string): Promise<Verification> {
    // base64url leaves unused bits in a segment's last character, so one signed token has several
    // spellings that verify alike; each would be its own rate-limit key and authorizer cache entry.
    if (!isCanonical(token)) return { refused: 'malformed-token' };
    let issuer: string | undefined;
    try {
      issuer = decodeJwt(token).iss; // unverified: only to choose the issuer's keys
    } catch {
      return { refused: 'malformed-token' };
    }
    const trusted = typeof issuer === 'string' ? this.issuers.get(issuer) : undefined;
    if (!trusted || !issuer) return { refused: 'unknown-issuer' };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, trusted.getKey, {
        issuer,
        audience: trusted.audience,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp', 'iat', 'sub'],
        maxTokenAge: MAX_TOKEN_AGE,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }));
    } catch {
      return { refused: 'verification-failed' };
    }
    if (typeof payload.role !== 'string' || !trusted.roles.has(payload.role))
      return { refused: 'role-not-allowed-for-issuer' };
    if (trusted.org && (typeof payload.org !== 'string' || !trusted.org.test(payload.org)))
      return { refused: 'org-not-allowed-for-issuer' };
    return { payload };
  }
}

/** True when each of the token's three segments is the one base64url spelling of its bytes. */
export function isCanonical(token: string): boolean {
  const segments = token.split('.');
  return (
    segments.length === 3 &&
    segments.every((segment) => Buffer.from(segment, 'base64url').toString('base64url') === segment)
  );
}
