/**
 * Real tokens from the local identity provider (local/identity-provider.ts), as a client obtains them:
 * a clinician signs in through the authorization code flow with PKCE (the sign-in page driven by
 * code), any other caller uses client credentials. Callers are registered first through the
 * provider's local-only admin endpoint, so any caller can be asked for. Used by `npm run token` and
 * the testkit.
 */
import * as client from 'openid-client';
import { CIS2_SCOPES } from './identity-provider';

export interface Caller {
  sub: string;
  name: string;
  org: string;
  role: string;
  activities?: string[];
  setting?: string;
  roleName?: string;
  orgName?: string;
  /** Clinicians: the assurance level signed in with (default AAL3_ANY). */
  acr?: string;
}

const REDIRECT_URI = 'http://127.0.0.1/callback';

async function adminPost<T>(origin: string, action: string, body: unknown): Promise<T> {
  const response = await fetch(`${origin}/admin/${action}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`The identity provider refused ${action}: ${await response.text()}`);
  return (await response.json()) as T;
}

const configs = new Map<string, Promise<client.Configuration>>();

/** The client's view of an issuer; kept for public clients (a system's secret changes per registration). */
function configuration(issuer: string, clientId: string, secret?: string): Promise<client.Configuration> {
  const discover = () =>
    // The local provider is plain http on a loopback address.
    client.discovery(
      new URL(issuer),
      clientId,
      undefined,
      secret === undefined ? client.None() : client.ClientSecretPost(secret),
      { execute: [client.allowInsecureRequests] },
    );
  if (secret !== undefined) return discover();
  const key = `${issuer} ${clientId}`;
  let found = configs.get(key);
  if (!found) {
    found = discover();
    found.catch(() => configs.delete(key));
    configs.set(key, found);
  }
  return found;
}

/** The cookies a response sets, merged into a jar of name=value pairs. */
function keepCookies(jar: Map<string, string>, response: Response) {
  for (const cookie of response.headers.getSetCookie()) {
    const [pair] = cookie.split(';');
    const at = (pair as string).indexOf('=');
    jar.set((pair as string).slice(0, at), (pair as string).slice(at + 1));
  }
}

async function follow(
  jar: Map<string, string>,
  url: string,
  init: RequestInit = {},
): Promise<{ response: Response; location?: string }> {
  const response = await fetch(url, {
    ...init,
    redirect: 'manual',
    headers: { ...init.headers, Cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; ') },
  });
  keepCookies(jar, response);
  const location = response.headers.get('location') ?? undefined;
  await response.arrayBuffer();
  return { response, location: location ? new URL(location, url).href : undefined };
}

/** A clinician's access token: sign in as `caller` with the role profile the caller describes. */
async function clinicianToken(origin: string, caller: Caller, ttlSeconds?: number): Promise<string> {
  const { person_roleid } = await adminPost<{ person_roleid: string }>(origin, 'users', {
    sub: caller.sub,
    name: caller.name,
    setting: caller.setting,
    acr: caller.acr,
    role: {
      org_code: caller.org,
      org_name: caller.orgName,
      role_name: caller.roleName,
      activity_codes: caller.activities ?? [],
    },
  });
  return signIn(origin, caller.sub, person_roleid, ttlSeconds);
}

/**
 * Signs in at the cis2 issuer as test user `sub` with role profile `personRoleId`, as a browser would
 * (authorization request, the sign-in page's form, the redirect back with a code), and exchanges the
 * code (with its PKCE verifier) for the access token.
 */
export async function signIn(
  origin: string,
  sub: string,
  personRoleId: string,
  ttlSeconds?: number,
): Promise<string> {
  const clientId = `token-cli-${ttlSeconds ?? 3600}`;
  await adminPost(origin, 'clients', { issuer: 'cis2', client_id: clientId, access_token_ttl: ttlSeconds });
  const config = await configuration(`${origin}/cis2`, clientId);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const authorize = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: CIS2_SCOPES,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const jar = new Map<string, string>();
  // authorize -> sign-in page -> (role profile chosen) -> resume -> redirect with the code
  let step = await follow(jar, authorize.href);
  if (!step.location)
    throw new Error(`The identity provider did not start a sign-in (${step.response.status})`);
  step = await follow(jar, step.location, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ profile: `${sub}|${personRoleId}` }).toString(),
  });
  for (let hops = 0; step.location && !step.location.startsWith(REDIRECT_URI) && hops < 5; hops++) {
    step = await follow(jar, step.location);
  }
  if (!step.location?.startsWith(REDIRECT_URI))
    throw new Error(`The identity provider did not complete the sign-in (${step.response.status})`);
  const tokens = await client.authorizationCodeGrant(config, new URL(step.location), {
    pkceCodeVerifier: verifier,
    expectedState: state,
  });
  return tokens.access_token;
}

/** Registers a system's client at the systems issuer, with its role and organisation (client id: its sub). */
export function registerSystem(
  origin: string,
  caller: Caller,
  ttlSeconds?: number,
): Promise<{ client_id: string; client_secret: string }> {
  return adminPost(origin, 'clients', {
    issuer: 'systems',
    client_id: caller.sub,
    client_name: caller.name,
    role: caller.role,
    org: caller.org,
    org_name: caller.orgName,
    access_token_ttl: ttlSeconds,
  });
}

/** The client credentials grant, asking for `scope` (the role the token is for). */
export async function clientCredentials(
  origin: string,
  clientId: string,
  secret: string,
  scope: string,
): Promise<string> {
  const config = await configuration(`${origin}/systems`, clientId, secret);
  return (await client.clientCredentialsGrant(config, { scope })).access_token;
}

/** A system's access token: its client registered with its role and organisation, then client credentials. */
async function systemToken(origin: string, caller: Caller, ttlSeconds?: number): Promise<string> {
  const { client_id, client_secret } = await registerSystem(origin, caller, ttlSeconds);
  return clientCredentials(origin, client_id, client_secret, caller.role);
}

/** One access token for `caller` from the provider at `origin`. */
export function obtainToken(
  origin: string,
  caller: Caller,
  options: { ttlSeconds?: number } = {},
): Promise<string> {
  return caller.role === 'clinician'
    ? clinicianToken(origin, caller, options.ttlSeconds)
    : systemToken(origin, caller, options.ttlSeconds);
}

/** Tests of the verifier's own checks: any payload, signed with an issuer's current key (local only). */
export async function forgeToken(
  origin: string,
  issuer: 'cis2' | 'systems',
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  return (await adminPost<{ token: string }>(origin, 'sign', { issuer, payload, header })).token;
}

/** Rotates the cis2 issuer's signing key; returns the new key's id. */
export async function rotateKeys(origin: string): Promise<string> {
  return (await adminPost<{ kid: string }>(origin, 'rotate-keys', { issuer: 'cis2' })).kid;
}
