/**
 * The local identity provider: a real OpenID provider (oidc-provider) with two issuers on one port.
 * `cis2` stands in for the NHS Care Identity Service 2: authorization code with PKCE, a sign-in page
 * listing the test users' role profiles, and a UserInfo endpoint answering in the CIS2 shape.
 * `systems` issues client-credentials tokens to council systems, auditors' tools and the demographics
 * feed, each client registered with its role and organisation. Never deployed: `/admin/*` registers
 * test users and clients on the fly (for `npm run token` and the testkit) and rotates keys.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLocalJWKSet, exportJWK, generateKeyPair, importJWK, type JWK, jwtVerify, SignJWT } from 'jose';
import type { Adapter, AdapterPayload, default as OidcProvider, ResourceServer } from 'oidc-provider';
import type { IssuerConfig } from '../functions/http/issuers';
import { signInPage } from './identity-sign-in-page';

type Provider = OidcProvider;

/**
 * oidc-provider, loaded without its one warning: it prefers Node 22 but runs on the Node 20 this
 * project supports, and a warning on every start (and test run) would hide real ones.
 */
async function loadProvider(): Promise<typeof OidcProvider> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).includes('oidc-provider WARNING: Unsupported runtime')) warn(...args);
  };
  try {
    return (await import('oidc-provider')).default;
  } finally {
    console.warn = warn;
  }
}

export interface IdentityProvider {
  origin: string;
  cis2Issuer: string;
  systemsIssuer: string;
  close(): Promise<void>;
}

export interface RoleProfile {
  person_roleid: string;
  org_code: string;
  org_name?: string;
  role_name?: string;
  activity_codes: string[];
}

export interface TestUser {
  sub: string;
  name: string;
  setting?: string;
  /** Authentication assurance the user signs in with; AAL3_ANY (smartcard) unless a test says less. */
  acr?: string;
  roles: RoleProfile[];
}

/** A system's client at the `systems` issuer: its tokens assert this role and organisation. */
export interface SystemClient {
  client_id: string;
  client_secret: string;
  client_name: string;
  role: string;
  org: string;
  org_name?: string;
  access_token_ttl?: number;
}

export const DEFAULT_ACR = 'AAL3_ANY';
export const CIS2_SCOPES = 'openid profile nationalrbacaccess';
const SYSTEM_ROLES = ['council', 'auditor', 'demographics'];
/** The API as a resource indicator (which must be an absolute URI); its tokens' audience is the plain name. */
const RESOURCE = 'urn:child-protection-sharing:api';
/** Lifetimes in seconds (access tokens take theirs from the client, default an hour). */
const accessTokenTtl = (_ctx: unknown, token: { resourceServer?: { accessTokenTTL?: number } }) =>
  token.resourceServer?.accessTokenTTL ?? 3600;
const TTL = {
  AccessToken: accessTokenTtl,
  ClientCredentials: accessTokenTtl,
  AuthorizationCode: 60,
  IdToken: 3600,
  Interaction: 600,
  Session: 12 * 3600,
  Grant: 12 * 3600,
};

const here = path.dirname(fileURLToPath(import.meta.url));
export const TEST_USERS: TestUser[] = JSON.parse(readFileSync(path.join(here, 'test-users.json'), 'utf8'));

type Store = Map<string, { payload: AdapterPayload; expires?: number }>;

/** oidc-provider's storage, one map per issuer (sessions, codes, grants, registered clients). */
function memoryAdapter(store: Store) {
  return class implements Adapter {
    constructor(private readonly model: string) {}
    private key(id: string) {
      return `${this.model}:${id}`;
    }
    private read(key: string): AdapterPayload | undefined {
      const entry = store.get(key);
      if (!entry) return undefined;
      if (entry.expires !== undefined && entry.expires < Date.now()) {
        store.delete(key);
        return undefined;
      }
      return entry.payload;
    }
    async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      const expires = expiresIn ? Date.now() + expiresIn * 1000 : undefined;
      store.set(this.key(id), { payload, expires });
      if (payload.uid) store.set(`uid:${payload.uid}`, { payload: { id } as AdapterPayload, expires });
      if (payload.userCode)
        store.set(`userCode:${payload.userCode}`, { payload: { id } as AdapterPayload, expires });
    }
    async find(id: string) {
      return this.read(this.key(id));
    }
    async findByUid(uid: string) {
      const ref = this.read(`uid:${uid}`);
      return ref ? this.find(String(ref.id)) : undefined;
    }
    async findByUserCode(userCode: string) {
      const ref = this.read(`userCode:${userCode}`);
      return ref ? this.find(String(ref.id)) : undefined;
    }
    async consume(id: string) {
      const payload = this.read(this.key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      store.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string) {
      for (const [key, entry] of store) if (entry.payload.grantId === grantId) store.delete(key);
    }
  };
}

async function newSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'ES256', use: 'sig' };
}

const publicOf = ({ d: _d, ...jwk }: JWK): JWK => jwk;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 1_000_000) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

const isLoopbackOrigin = (origin: string | undefined) =>
  !!origin && /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?$/.test(origin);

/** What UserInfo answers for a token: the user as they signed in, with the role profile they chose. */
interface SignIn {
  user: TestUser;
  selectedRoleId: string;
}

export async function startIdentityProvider(options: {
  port?: number;
  host?: string;
  audience: string;
}): Promise<IdentityProvider> {
  const Provider = await loadProvider();
  const host = options.host ?? '127.0.0.1';
  const audience = options.audience;
  const users = new Map<string, TestUser>(TEST_USERS.map((user) => [user.sub, structuredClone(user)]));
  const systemClients = new Map<string, SystemClient>();
  /** Sign-ins by grant, and by access token id once a token is issued for the grant. */
  const signInsByGrant = new Map<string, SignIn>();
  const signInsByToken = new Map<string, SignIn>();
  const cookieKeys = [randomBytes(32).toString('base64url')];

  // Kept across a key rotation (which rebuilds the cis2 provider): sessions, grants and clients survive.
  const cis2Store: Store = new Map();
  const systemsStore: Store = new Map();

  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const origin = `http://${host}:${(server.address() as AddressInfo).port}`;
  const cis2Issuer = `${origin}/cis2`;
  const systemsIssuer = `${origin}/systems`;

  const keys: Record<'cis2' | 'systems', JWK[]> = {
    cis2: [await newSigningKey()],
    systems: [await newSigningKey()],
  };

  const resourceServer = (
    client: { metadata(): Record<string, unknown> } | undefined,
    scope: string,
  ): ResourceServer => {
    const ttl = Number(client?.metadata().access_token_ttl ?? 3600);
    return {
      scope,
      audience,
      accessTokenTTL: Number.isInteger(ttl) && ttl > 0 ? ttl : 3600,
      accessTokenFormat: 'jwt',
      jwt: { sign: { alg: 'ES256' } },
    };
  };

  function buildCis2(): Provider {
    const provider = new Provider(cis2Issuer, {
      adapter: memoryAdapter(cis2Store),
      jwks: { keys: keys.cis2 as never },
      cookies: { keys: cookieKeys },
      clients: [
        {
          client_id: 'web-view',
          application_type: 'native',
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code'],
          response_types: ['code'],
          redirect_uris: ['http://127.0.0.1/web/', 'http://localhost/web/'],
          post_logout_redirect_uris: ['http://127.0.0.1/web/', 'http://localhost/web/'],
          scope: CIS2_SCOPES,
        },
      ],
      extraClientMetadata: { properties: ['access_token_ttl'] },
      scopes: ['openid', 'profile', 'nationalrbacaccess'],
      claims: {
        openid: ['sub'],
        profile: ['name', 'given_name', 'family_name'],
        nationalrbacaccess: ['nhsid_nrbac_roles', 'nhsid_user_orgs', 'selected_roleid'],
      },
      acrValues: [DEFAULT_ACR, 'AAL2_OR_AAL3_ANY', 'AAL1_USERPASS'],
      responseTypes: ['code'],
      pkce: { required: () => true },
      clientDefaults: { id_token_signed_response_alg: 'ES256' },
      ttl: TTL,
      features: {
        devInteractions: { enabled: false },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => RESOURCE,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, _resource, client) =>
            resourceServer(client as never, 'nationalrbacaccess'),
        },
      },
      interactions: { url: (_ctx, interaction) => `/cis2/interaction/${interaction.uid}` },
      findAccount: (_ctx, sub) => {
        const user = users.get(sub);
        if (!user) return undefined;
        return { accountId: sub, claims: () => ({ sub, name: user.name }) };
      },
      extraTokenClaims: (_ctx, token) => {
        const { grantId } = token as { grantId?: string };
        const signIn = grantId ? signInsByGrant.get(grantId) : undefined;
        if (!signIn) return undefined;
        signInsByToken.set(token.jti, signIn);
        return {
          selected_roleid: signIn.selectedRoleId,
          acr: signIn.user.acr ?? DEFAULT_ACR,
          ...(signIn.user.setting ? { setting: signIn.user.setting } : {}),
        };
      },
      clientBasedCORS: (_ctx, corsOrigin) => isLoopbackOrigin(corsOrigin),
      renderError: (ctx, out) => {
        ctx.type = 'json';
        ctx.body = out;
      },
    });
    return provider;
  }

  function buildSystems(): Provider {
    return new Provider(systemsIssuer, {
      adapter: memoryAdapter(systemsStore),
      jwks: { keys: keys.systems as never },
      cookies: { keys: cookieKeys },
      clients: [],
      // Clients come from the admin endpoint: found here, never stored by the provider itself.
      findAccount: () => undefined,
      extraClientMetadata: { properties: ['role', 'org', 'org_name', 'access_token_ttl'] },
      clientDefaults: { id_token_signed_response_alg: 'ES256' },
      ttl: TTL,
      scopes: ['openid', ...SYSTEM_ROLES],
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => RESOURCE,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, _resource, client) =>
            resourceServer(client as never, SYSTEM_ROLES.join(' ')),
        },
      },
      extraTokenClaims: (_ctx, token) => {
        const client = systemClients.get(String(token.clientId));
        if (!client) return undefined;
        return {
          role: client.role,
          org: client.org,
          name: client.client_name,
          ...(client.org_name ? { orgName: client.org_name } : {}),
        };
      },
    });
  }

  let cis2 = buildCis2();
  const systems = buildSystems();
  // Registered clients are found through each provider's storage, as dynamically registered ones are.
  const cis2Clients = new (memoryAdapter(cis2Store))('Client');
  const systemsClients = new (memoryAdapter(systemsStore))('Client');

  /** Each provider's request handler, built once (a key rotation builds a new provider). */
  const callbacks = new WeakMap<Provider, ReturnType<Provider['callback']>>();
  /** Runs one of the providers on a request whose path lies under `prefix`, as a mounted app. */
  const mounted = (provider: Provider, prefix: string, req: IncomingMessage, res: ServerResponse) => {
    (req as IncomingMessage & { originalUrl?: string }).originalUrl = req.url;
    req.url = (req.url as string).slice(prefix.length) || '/';
    let callback = callbacks.get(provider);
    if (!callback) {
      callback = provider.callback();
      callbacks.set(provider, callback);
    }
    return callback(req, res);
  };

  async function userinfo(req: IncomingMessage, res: ServerResponse) {
    const cors: Record<string, string> = isLoopbackOrigin(req.headers.origin)
      ? { 'Access-Control-Allow-Origin': req.headers.origin as string, Vary: 'Origin' }
      : {};
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...cors, 'Access-Control-Allow-Headers': 'Authorization' });
      res.end();
      return;
    }
    const refuse = () =>
      sendJson(
        res,
        401,
        { error: 'invalid_token' },
        { ...cors, 'WWW-Authenticate': 'Bearer error="invalid_token"' },
      );
    const match = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '');
    if (!match?.[1]) return refuse();
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(match[1], createLocalJWKSet({ keys: keys.cis2.map(publicOf) }), {
        issuer: cis2Issuer,
        audience,
      }));
    } catch {
      return refuse();
    }
    const signIn = signInsByToken.get(String(payload.jti));
    const user = signIn?.user ?? users.get(String(payload.sub));
    if (!user) return refuse();
    const orgs = new Map(user.roles.map((role) => [role.org_code, role.org_name]));
    // The organisation's name as the selected role profile gives it (a test may register none).
    const selected = user.roles.find((role) => role.person_roleid === signIn?.selectedRoleId);
    if (selected) orgs.set(selected.org_code, selected.org_name);
    sendJson(
      res,
      200,
      {
        sub: user.sub,
        name: user.name,
        nhsid_useruid: user.sub,
        nhsid_nrbac_roles: user.roles.map((role) => ({
          person_roleid: role.person_roleid,
          org_code: role.org_code,
          ...(role.role_name ? { role_name: role.role_name } : {}),
          activity_codes: role.activity_codes,
        })),
        nhsid_user_orgs: [...orgs].map(([org_code, org_name]) => ({
          org_code,
          ...(org_name ? { org_name } : {}),
        })),
        ...(signIn ? { selected_roleid: signIn.selectedRoleId } : {}),
      },
      cors,
    );
  }

  async function interaction(req: IncomingMessage, res: ServerResponse, uid: string) {
    const details = await cis2.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction mismatch');
    if (req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(signInPage(users.values(), `/cis2/interaction/${uid}`));
      return;
    }
    const form = new URLSearchParams(await readBody(req));
    const [sub, roleId] = (form.get('profile') ?? '').split('|');
    const user = sub ? users.get(sub) : undefined;
    if (!user?.roles.some((role) => role.person_roleid === roleId)) {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Choose one of the listed role profiles.');
      return;
    }
    // Consent is granted at once: the grant covers the CIS2 scopes and the API as resource.
    const grant = new cis2.Grant({ accountId: user.sub, clientId: String(details.params.client_id) });
    grant.addOIDCScope(CIS2_SCOPES);
    grant.addResourceScope(RESOURCE, 'nationalrbacaccess');
    const grantId = await grant.save();
    signInsByGrant.set(grantId, { user: structuredClone(user), selectedRoleId: roleId as string });
    await cis2.interactionFinished(
      req,
      res,
      { login: { accountId: user.sub, acr: user.acr ?? DEFAULT_ACR }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  }

  async function admin(req: IncomingMessage, res: ServerResponse, action: string) {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'POST only' });
    const body = JSON.parse((await readBody(req)) || '{}');
    switch (action) {
      case 'users': {
        // One role profile for a user, added beside any they hold already (an equal one is reused).
        const role = body.role as Omit<RoleProfile, 'person_roleid'>;
        const existing = users.get(body.sub);
        const user: TestUser = {
          sub: body.sub,
          name: body.name,
          ...(body.setting ? { setting: body.setting } : {}),
          ...(body.acr ? { acr: body.acr } : {}),
          roles: existing?.roles ?? [],
        };
        const same = user.roles.find(
          (held) =>
            held.org_code === role.org_code &&
            held.org_name === role.org_name &&
            held.role_name === role.role_name &&
            JSON.stringify(held.activity_codes) === JSON.stringify(role.activity_codes),
        );
        const profile = same ?? { person_roleid: `${Date.now()}${user.roles.length}`, ...role };
        if (!same) user.roles = [...user.roles, profile];
        users.set(user.sub, user);
        return sendJson(res, 200, { person_roleid: profile.person_roleid });
      }
      case 'clients': {
        if (body.issuer === 'cis2') {
          // A public client like the token CLI's, with its own access token lifetime.
          await cis2Clients.upsert(
            body.client_id,
            {
              client_id: body.client_id,
              application_type: 'native',
              token_endpoint_auth_method: 'none',
              grant_types: ['authorization_code'],
              response_types: ['code'],
              redirect_uris: ['http://127.0.0.1/callback'],
              scope: CIS2_SCOPES,
              ...(body.access_token_ttl ? { access_token_ttl: body.access_token_ttl } : {}),
            } as AdapterPayload,
            0,
          );
          return sendJson(res, 200, { client_id: body.client_id });
        }
        const client: SystemClient = {
          client_id: body.client_id,
          client_secret: randomBytes(24).toString('base64url'),
          client_name: body.client_name,
          role: body.role,
          org: body.org,
          ...(body.org_name ? { org_name: body.org_name } : {}),
          ...(body.access_token_ttl ? { access_token_ttl: body.access_token_ttl } : {}),
        };
        systemClients.set(client.client_id, client);
        await systemsClients.upsert(
          client.client_id,
          {
            client_id: client.client_id,
            client_secret: client.client_secret,
            client_name: client.client_name,
            grant_types: ['client_credentials'],
            response_types: [],
            redirect_uris: [],
            token_endpoint_auth_method: 'client_secret_post',
            scope: client.role,
            role: client.role,
            org: client.org,
            ...(client.org_name ? { org_name: client.org_name } : {}),
            ...(client.access_token_ttl ? { access_token_ttl: client.access_token_ttl } : {}),
          } as AdapterPayload,
          0,
        );
        return sendJson(res, 200, { client_id: client.client_id, client_secret: client.client_secret });
      }
      case 'rotate-keys': {
        // The new key signs from now on; the old one stays published for tokens already issued.
        const which = body.issuer === 'systems' ? 'systems' : 'cis2';
        if (which !== 'cis2') return sendJson(res, 400, { error: 'only the cis2 issuer rotates' });
        keys.cis2 = [await newSigningKey(), ...keys.cis2];
        cis2 = buildCis2();
        return sendJson(res, 200, { kid: keys.cis2[0]?.kid });
      }
      case 'sign': {
        // Tests of the verifier's own checks (expiry, audience, claims) need tokens the provider would
        // never issue: this signs any payload with the issuer's current key.
        const which = body.issuer === 'cis2' ? 'cis2' : 'systems';
        const jwk = keys[which][0] as JWK;
        const token = await new SignJWT(body.payload)
          .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: jwk.kid, ...body.header })
          .sign(await importJWK(jwk, 'ES256'));
        return sendJson(res, 200, { token });
      }
      default:
        return sendJson(res, 404, { error: 'unknown admin action' });
    }
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', origin);
    const fail = (error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: 'server_error', message: (error as Error).message });
      else res.end();
    };
    try {
      if (url.pathname === '/cis2/me') return void userinfo(req, res).catch(fail);
      const step = /^\/cis2\/interaction\/([\w-]+)$/.exec(url.pathname);
      if (step?.[1]) return void interaction(req, res, step[1]).catch(fail);
      if (url.pathname.startsWith('/cis2/')) return void mounted(cis2, '/cis2', req, res);
      if (url.pathname.startsWith('/systems/')) return void mounted(systems, '/systems', req, res);
      const action = /^\/admin\/([\w-]+)$/.exec(url.pathname);
      if (action?.[1]) return void admin(req, res, action[1]).catch(fail);
      sendJson(res, 404, { error: 'not found' });
    } catch (error) {
      fail(error);
    }
  });

  return {
    origin,
    cis2Issuer,
    systemsIssuer,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The issuers the local runtime trusts: this provider's two, and no others. Organisations are any ODS
 * code (the routes check which one a caller may act for).
 */
export function localIssuers(origin: string, audience = 'child-protection-sharing'): IssuerConfig[] {
  return [
    // Unlike CIS2's, this provider's access tokens name the API as audience: checked.
    { kind: 'cis2', issuer: `${origin}/cis2`, audience, roles: ['clinician'], orgPattern: '[A-Z0-9]{3,10}' },
    {
      kind: 'client-credentials',
      issuer: `${origin}/systems`,
      roles: ['council', 'auditor', 'demographics'],
      orgPattern: '[A-Z0-9]{3,10}',
    },
  ];
}
