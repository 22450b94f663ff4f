import {
  createRemoteJWKSet,
  customFetch,
  decodeJwt,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import { CLOCK_TOLERANCE_SECONDS } from '../core/claim-rules';
import { discoveryUrlOf, type IssuerConfig, wholeOrgPattern } from './issuers';

export const ALGORITHMS = ['RS256', 'PS256', 'ES256'];
/** Tokens living longer than this are refused even if their exp is later. */
const MAX_TOKEN_AGE = '12h';
/** The assurance a CIS2 token must carry unless its issuer entry says otherwise (smartcard). */
export const DEFAULT_ACR = 'AAL3_ANY';
/** How long a call to an identity service (discovery, UserInfo) may take before the token is refused. */
const IDENTITY_CALL_TIMEOUT_MS = 2000;
/** An unknown `kid` fetches the issuer's keys again at most this often (the contract: once a minute). */
const JWKS_REFETCH_COOLDOWN_MS = 60_000;
const JWKS_MAX_AGE_MS = 10 * 60_000;

export type { IssuerConfig };

/** Why a token was refused: safe to log, it names no person and repeats nothing from the token. */
export type Refusal =
  | 'malformed-token'
  | 'unknown-issuer'
  | 'verification-failed'
  | 'acr-not-met'
  | 'client-not-allowed'
  | 'no-selected-role'
  | 'selected-role-unknown'
  | 'userinfo-refused'
  | 'identity-service-unreachable'
  | 'role-not-allowed-for-issuer'
  | 'org-not-allowed-for-issuer';

export type Verification = { payload: JWTPayload } | { refused: Refusal; issuer?: string };

type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

/** An issuer's keys; by default its JWKS, found through its discovery document. */
export type KeySource = (issuer: IssuerConfig) => JWTVerifyGetKey;

export interface VerifierOptions {
  /** Replaces fetching each issuer's JWKS: for tests only, functions never pass it. */
  keySource?: KeySource;
  /** Replaces the global fetch (discovery, UserInfo): for tests only. */
  fetch?: Fetch;
}

interface Discovery {
  jwks_uri: string;
  userinfo_endpoint?: string;
}

/** Thrown when an identity service cannot be reached or answers nonsense: the token is refused. */
class Unreachable extends Error {}

interface TrustedIssuer {
  config: IssuerConfig;
  audience: string | undefined;
  getKey: JWTVerifyGetKey;
  discovery(): Promise<Discovery>;
  roles: ReadonlySet<string>;
  /** What the token's whole `org` must match. */
  org: RegExp;
}

/** A role profile in a CIS2 UserInfo answer. */
interface NrbacRole {
  person_roleid?: unknown;
  org_code?: unknown;
  role_name?: unknown;
  activity_codes?: unknown;
}

export class TokenVerifier {
  private readonly issuers = new Map<string, TrustedIssuer>();
  private readonly fetch: Fetch;

  constructor(issuers: IssuerConfig[], audience: string, options: VerifierOptions = {}) {
    this.fetch = options.fetch ?? ((url, init) => fetch(url, init));
    for (const config of issuers) {
      const discovery = this.discoveryOf(config);
      this.issuers.set(config.issuer, {
        config,
        // CIS2 access tokens carry no `aud` (only its ID tokens do): checked only when the entry names one.
        audience: config.kind === 'cis2' ? config.audience : (config.audience ?? audience),
        discovery,
        getKey: options.keySource ? options.keySource(config) : remoteKeys(discovery, this.fetch),
        roles: new Set(config.roles),
        org: wholeOrgPattern(config.orgPattern),
      });
    }
  }

  /** The issuer's discovery document, fetched on first use and kept (a failed fetch is tried again). */
  private discoveryOf(config: IssuerConfig): () => Promise<Discovery> {
    let found: Promise<Discovery> | undefined;
    return () => {
      found ??= (async () => {
        const response = await this.fetch(discoveryUrlOf(config), {
          signal: AbortSignal.timeout(IDENTITY_CALL_TIMEOUT_MS),
        });
        const document = (await response.json()) as Partial<Discovery> & { issuer?: string };
        if (!response.ok || document.issuer !== config.issuer || typeof document.jwks_uri !== 'string')
          throw new Unreachable('discovery document unusable');
        return document as Discovery;
      })().catch((error: unknown) => {
        found = undefined;
        throw error instanceof Unreachable ? error : new Unreachable('discovery failed');
      });
      return found;
    };
  }

  /** The verified payload, or undefined for any token that fails a check. */
  async verify(token: string): Promise<JWTPayload | undefined> {
    const verification = await this.check(token);
    return 'payload' in verification ? verification.payload : undefined;
  }

  /**
   * The claims the service works with, or why the token is refused: signature and standard claims
   * first, then (CIS2) assurance and the selected role through UserInfo, then the issuer's binding, so
   * a token asserting a role or organisation its issuer may not assert is refused whatever its signature.
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
    } catch (error) {
      if (error instanceof Unreachable) return { refused: 'identity-service-unreachable', issuer };
      return { refused: 'verification-failed' };
    }
    if (trusted.config.kind === 'cis2') {
      const resolved = await this.cis2Claims(trusted, token, payload);
      if ('refused' in resolved) return resolved;
      payload = resolved.payload;
    }
    if (typeof payload.role !== 'string' || !trusted.roles.has(payload.role))
      return { refused: 'role-not-allowed-for-issuer' };
    if (typeof payload.org !== 'string' || !trusted.org.test(payload.org))
      return { refused: 'org-not-allowed-for-issuer' };
    return { payload };
  }

  /**
   * A CIS2 token's claims: its assurance checked, then the role profile it was signed in with, from
   * UserInfo (`selected_roleid` among `nhsid_nrbac_roles`), mapped to the service's claims.
   */
  private async cis2Claims(
    trusted: TrustedIssuer,
    token: string,
    payload: JWTPayload,
  ): Promise<Verification> {
    const issuer = trusted.config.issuer;
    if (payload.acr !== (trusted.config.acr ?? DEFAULT_ACR)) return { refused: 'acr-not-met' };
    const clients = trusted.config.clients;
    const client = payload.client_id ?? payload.azp;
    if (clients && (typeof client !== 'string' || !clients.includes(client)))
      return { refused: 'client-not-allowed' };
    let info: Record<string, unknown>;
    try {
      const { userinfo_endpoint } = await trusted.discovery();
      if (!userinfo_endpoint) throw new Unreachable('no UserInfo endpoint');
      const response = await this.fetch(userinfo_endpoint, {
        headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
        signal: AbortSignal.timeout(IDENTITY_CALL_TIMEOUT_MS),
      });
      if (response.status === 401 || response.status === 403) {
        await response.body?.cancel();
        return { refused: 'userinfo-refused' };
      }
      if (!response.ok) throw new Unreachable(`UserInfo answered ${response.status}`);
      info = (await response.json()) as Record<string, unknown>;
    } catch {
      return { refused: 'identity-service-unreachable', issuer };
    }
    if (info.sub !== payload.sub) return { refused: 'userinfo-refused' };
    const selected = payload.selected_roleid ?? info.selected_roleid;
    if (typeof selected !== 'string' || selected === '') return { refused: 'no-selected-role' };
    const roles = Array.isArray(info.nhsid_nrbac_roles) ? (info.nhsid_nrbac_roles as NrbacRole[]) : [];
    const role = roles.find((candidate) => candidate?.person_roleid === selected);
    if (!role) return { refused: 'selected-role-unknown' };
    const orgs = Array.isArray(info.nhsid_user_orgs)
      ? (info.nhsid_user_orgs as { org_code?: unknown; org_name?: unknown }[])
      : [];
    const orgName = orgs.find((org) => org?.org_code === role.org_code)?.org_name;
    return {
      payload: {
        iss: payload.iss,
        sub: payload.sub,
        exp: payload.exp,
        iat: payload.iat,
        name: info.name,
        role: 'clinician',
        org: role.org_code,
        activities: role.activity_codes,
        ...(typeof role.role_name === 'string' && role.role_name ? { roleName: role.role_name } : {}),
        ...(typeof orgName === 'string' && orgName ? { orgName } : {}),
        // Not a CIS2 claim: the local provider adds where its test user works, and a clinical system
        // may too; absent, the service shows no setting.
        ...(typeof payload.setting === 'string' ? { setting: payload.setting } : {}),
      },
    };
  }
}

/**
 * The issuer's JWKS, its address from the discovery document. jose refetches the set when a token names
 * an unknown `kid` (rotation), no more than once per cooldown.
 */
function remoteKeys(discovery: () => Promise<Discovery>, fetchImpl: Fetch): JWTVerifyGetKey {
  let keys: JWTVerifyGetKey | undefined;
  return async (header, token) => {
    if (!keys) {
      const { jwks_uri } = await discovery();
      keys ??= createRemoteJWKSet(new URL(jwks_uri), {
        cooldownDuration: JWKS_REFETCH_COOLDOWN_MS,
        cacheMaxAge: JWKS_MAX_AGE_MS,
        timeoutDuration: IDENTITY_CALL_TIMEOUT_MS,
        [customFetch]: fetchImpl,
      });
    }
    try {
      return await keys(header, token);
    } catch (error) {
      const code = (error as { code?: string }).code;
      // No key for the token (unknown kid, bad signature) refuses the token; a JWKS that cannot be had
      // is the identity service's failure.
      if (code === 'ERR_JWKS_TIMEOUT' || (error instanceof TypeError && !code))
        throw new Unreachable('JWKS unreachable');
      throw error;
    }
  };
}

/** True when each of the token's three segments is the one base64url spelling of its bytes. */
export function isCanonical(token: string): boolean {
  const segments = token.split('.');
  return (
    segments.length === 3 &&
    segments.every((segment) => Buffer.from(segment, 'base64url').toString('base64url') === segment)
  );
}
