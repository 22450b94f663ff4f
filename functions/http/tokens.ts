import {
  createRemoteJWKSet,
  decodeJwt,
  importJWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import { CLOCK_TOLERANCE_SECONDS } from '../core/claims';
import { type IssuerConfig, IssuersSchema } from '../environment';

/** The issuer of tokens signed by the development key; accepted only outside Lambda. */
export const LOCAL_ISSUER = 'urn:child-protection-sharing:local-development';
export const ALGORITHMS = ['RS256', 'PS256', 'ES256'];
/** Tokens living longer than this are refused even if their exp is later. */
const MAX_TOKEN_AGE = '12h';

export type { IssuerConfig };

export function parseIssuers(json: string): IssuerConfig[] {
  return IssuersSchema.parse(JSON.parse(json));
}

interface TrustedIssuer {
  audience: string;
  getKey: JWTVerifyGetKey;
}

export class TokenVerifier {
  private readonly issuers = new Map<string, TrustedIssuer>();

  constructor(issuers: IssuerConfig[], audience: string, local: { localKey?: string; deployed: boolean }) {
    for (const issuer of issuers) {
      this.issuers.set(issuer.issuer, {
        audience: issuer.audience ?? audience,
        getKey: createRemoteJWKSet(new URL(issuer.jwksUri)),
      });
    }
    if (local.localKey) {
      if (local.deployed)
        throw new Error('The local development signing key cannot be used in a deployed function');
      const key = importJWK(JSON.parse(local.localKey), 'ES256');
      this.issuers.set(LOCAL_ISSUER, { audience, getKey: () => key });
    }
  }

  /** The verified payload, or undefined for any token that fails a check. */
  async verify(token: string): Promise<JWTPayload | undefined> {
    let issuer: string | undefined;
    try {
      issuer = decodeJwt(token).iss; // unverified: only to choose the issuer's keys
    } catch {
      return undefined;
    }
    const trusted = typeof issuer === 'string' ? this.issuers.get(issuer) : undefined;
    if (!trusted || !issuer) return undefined;
    try {
      const { payload } = await jwtVerify(token, trusted.getKey, {
        issuer,
        audience: trusted.audience,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp', 'iat', 'sub'],
        maxTokenAge: MAX_TOKEN_AGE,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      });
      return payload;
    } catch {
      return undefined;
    }
  }
}
