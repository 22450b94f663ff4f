/**
 * Each trusted issuer is bound to the roles it may assert and the organisations (orgPattern) it may
 * assert them for: a token asserting anything else is refused (401), however well it is signed. CIS2
 * tokens are read through UserInfo (the selected role profile); the keys are found through discovery
 * and fetched again, at most once a minute, for a key id not yet seen. Keys are generated here and
 * the identity services' answers stubbed through the verifier's test-only key source and fetch.
 */
import { jest } from '@jest/globals';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { EnvironmentError, environments, readEnvironment } from '../../functions/environment';
import { readAuthorizerSettings } from '../../functions/http/authorizer-settings';
import { checkIssuers, parseIssuers } from '../../functions/http/issuers';
import { type IssuerConfig, TokenVerifier } from '../../functions/http/tokens';

const AUDIENCE = 'child-protection-sharing';
const clinicians: IssuerConfig = {
  kind: 'cis2',
  issuer: 'https://cis2.example.nhs.uk/realms/healthcare',
  audience: AUDIENCE,
  roles: ['clinician'],
  orgPattern: '^R[A-Z0-9]{2,5}$',
};
const councils: IssuerConfig = {
  kind: 'client-credentials',
  issuer: 'https://councils-auth.example.org',
  roles: ['council'],
  orgPattern: '^E\\d{8}$',
};
const USERINFO = `${clinicians.issuer}/userinfo`;

type Keys = Awaited<ReturnType<typeof generateKeyPair>>;
const keys = new Map<string, Keys>();
let verifier: TokenVerifier;

/** What the stubbed UserInfo endpoint answers (status and body), by the token's sub. */
const userInfo = new Map<string, { status: number; body?: unknown } | 'unreachable'>();
const ada = {
  sub: 'u1',
  name: 'Dr Ada Lovelace',
  nhsid_nrbac_roles: [
    { person_roleid: 'r1', org_code: 'RXX01', role_name: 'Staff Nurse', activity_codes: ['B0107'] },
    { person_roleid: 'r2', org_code: 'RZZ03', role_name: 'Salaried GP', activity_codes: ['B0170', 'B0360'] },
  ],
  nhsid_user_orgs: [
    { org_code: 'RXX01', org_name: 'Example Hospitals NHS Trust' },
    { org_code: 'RZZ03', org_name: 'Example Out of Hours Service' },
  ],
};

/** The identity services as fetch sees them: discovery documents and UserInfo. */
const stubFetch = async (url: string, init?: RequestInit): Promise<Response> => {
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  if (url === `${clinicians.issuer}/.well-known/openid-configuration`)
    return json({
      issuer: clinicians.issuer,
      jwks_uri: `${clinicians.issuer}/jwks`,
      userinfo_endpoint: USERINFO,
    });
  if (url === USERINFO) {
    const token = String(new Headers(init?.headers).get('authorization')).replace('Bearer ', '');
    const sub = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).sub;
    const answer = userInfo.get(sub) ?? { status: 200, body: { ...ada, sub } };
    if (answer === 'unreachable') throw new TypeError('fetch failed');
    return json(answer.body ?? {}, answer.status);
  }
  throw new Error(`unexpected fetch of ${url}`);
};

beforeAll(async () => {
  for (const issuer of [clinicians, councils]) keys.set(issuer.issuer, await generateKeyPair('ES256'));
  // Each issuer's public key, in place of fetching its JWKS.
  verifier = new TokenVerifier([clinicians, councils], AUDIENCE, {
    keySource: (issuer) => {
      const key = keys.get(issuer.issuer)?.publicKey;
      if (!key) throw new Error(`no key for ${issuer.issuer}`);
      return async () => key;
    },
    fetch: stubFetch,
  });
});
afterEach(() => userInfo.clear());

/** A token of `issuer`, signed with its own key (or `signer`'s). */
async function tokenOf(
  issuer: IssuerConfig,
  claims: JWTPayload,
  signer: IssuerConfig = issuer,
  sub = 's1',
): Promise<string> {
  const key = keys.get(signer.issuer)?.privateKey as Keys['privateKey'];
  return new SignJWT({ name: 'Example', ...claims })
    .setProtectedHeader({ alg: 'ES256' })
    .setSubject(sub)
    .setIssuer(issuer.issuer)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(key);
}

/** A CIS2 access token of user u1 signed in with role profile `roleId`. */
const cis2Token = (claims: JWTPayload = {}, sub = 'u1') =>
  tokenOf(clinicians, { acr: 'AAL3_ANY', selected_roleid: 'r1', ...claims }, clinicians, sub);

describe('issuers bound to roles and organisations', () => {
  it('accepts what each issuer may assert', async () => {
    const council = await verifier.check(await tokenOf(councils, { role: 'council', org: 'E09000001' }));
    expect(council).toEqual({ payload: expect.objectContaining({ role: 'council', org: 'E09000001' }) });
    const clinician = await verifier.verify(await cis2Token());
    expect(clinician).toEqual(expect.objectContaining({ role: 'clinician', org: 'RXX01' }));
  });

  it("refuses a council issuer's token asserting a role it may not assert, whatever its signature", async () => {
    for (const role of ['auditor', 'clinician', 'demographics']) {
      const token = await tokenOf(councils, { role, org: 'E09000001' });
      expect(await verifier.check(token)).toEqual({ refused: 'role-not-allowed-for-issuer' });
      expect(await verifier.verify(token)).toBeUndefined();
    }
  });

  it("refuses a council issuer's token for an organisation its orgPattern does not match", async () => {
    const token = await tokenOf(councils, { role: 'council', org: 'RXX01' });
    expect(await verifier.check(token)).toEqual({ refused: 'org-not-allowed-for-issuer' });
    expect(await verifier.verify(token)).toBeUndefined();
    // The clinicians' issuer may not assert a council's code either, whatever UserInfo says.
    userInfo.set('u9', {
      status: 200,
      body: {
        ...ada,
        sub: 'u9',
        nhsid_nrbac_roles: [{ person_roleid: 'r1', org_code: 'E09000001', activity_codes: [] }],
      },
    });
    expect(await verifier.check(await cis2Token({}, 'u9'))).toEqual({
      refused: 'org-not-allowed-for-issuer',
    });
  });

  it('matches orgPattern against the whole org, anchored or not', async () => {
    const unanchored = { ...councils, orgPattern: 'E\\d{8}' };
    const key = keys.get(councils.issuer)?.publicKey as Keys['publicKey'];
    const loose = new TokenVerifier([unanchored], AUDIENCE, { keySource: () => async () => key });
    for (const org of ['XE09000001', 'E090000011']) {
      const token = await tokenOf(councils, { role: 'council', org });
      expect(await loose.check(token)).toEqual({ refused: 'org-not-allowed-for-issuer' });
    }
    expect(await loose.verify(await tokenOf(councils, { role: 'council', org: 'E09000001' }))).toBeDefined();
  });

  it('checks the signature first: a token naming one issuer signed with the other’s key is refused', async () => {
    const forged = await tokenOf(councils, { role: 'council', org: 'E09000001' }, clinicians);
    expect(await verifier.check(forged)).toEqual({ refused: 'verification-failed' });
    expect(await verifier.check('not-a-jwt')).toEqual({ refused: 'malformed-token' });
  });
});

describe('CIS2 tokens', () => {
  it("take organisation, job role and permission codes from the selected role profile, and the organisation's name", async () => {
    expect(
      await verifier.verify(await cis2Token({ selected_roleid: 'r2', setting: 'out-of-hours' })),
    ).toEqual({
      iss: clinicians.issuer,
      sub: 'u1',
      iat: expect.any(Number),
      exp: expect.any(Number),
      name: 'Dr Ada Lovelace',
      role: 'clinician',
      org: 'RZZ03',
      roleName: 'Salaried GP',
      orgName: 'Example Out of Hours Service',
      activities: ['B0170', 'B0360'],
      setting: 'out-of-hours',
    });
  });

  it('ignore any role, org or codes the token itself claims', async () => {
    const payload = await verifier.verify(
      await cis2Token({ role: 'auditor', org: 'RAA01', activities: ['B0107', 'B0170'], roleName: 'Chief' }),
    );
    expect(payload).toEqual(
      expect.objectContaining({
        role: 'clinician',
        org: 'RXX01',
        activities: ['B0107'],
        roleName: 'Staff Nurse',
      }),
    );
  });

  it('are refused without a selected role, or with one the user does not hold', async () => {
    expect(await verifier.check(await cis2Token({ selected_roleid: undefined }))).toEqual({
      refused: 'no-selected-role',
    });
    expect(await verifier.check(await cis2Token({ selected_roleid: 'r9' }))).toEqual({
      refused: 'selected-role-unknown',
    });
  });

  it('are refused below the required assurance (default AAL3_ANY), or at another when the issuer names it', async () => {
    for (const acr of ['AAL1_USERPASS', 'AAL2_OR_AAL3_ANY', undefined])
      expect(await verifier.check(await cis2Token({ acr }))).toEqual({ refused: 'acr-not-met' });
    const key = keys.get(clinicians.issuer)?.publicKey as Keys['publicKey'];
    const lenient = new TokenVerifier([{ ...clinicians, acr: 'AAL2_OR_AAL3_ANY' }], AUDIENCE, {
      keySource: () => async () => key,
      fetch: stubFetch,
    });
    expect(await lenient.verify(await cis2Token({ acr: 'AAL2_OR_AAL3_ANY' }))).toBeDefined();
    expect(await lenient.check(await cis2Token())).toEqual({ refused: 'acr-not-met' });
  });

  it('are refused when the issuer lists its clients and the token names another, or none', async () => {
    const bound = new TokenVerifier([{ ...clinicians, clients: ['web-view'] }], AUDIENCE, {
      keySource: () => async () => keys.get(clinicians.issuer)?.publicKey as Keys['publicKey'],
      fetch: stubFetch,
    });
    expect(await bound.verify(await cis2Token({ client_id: 'web-view' }))).toBeDefined();
    expect(await bound.verify(await cis2Token({ azp: 'web-view' }))).toBeDefined();
    expect(await bound.check(await cis2Token({ client_id: 'another-service' }))).toEqual({
      refused: 'client-not-allowed',
    });
    expect(await bound.check(await cis2Token())).toEqual({ refused: 'client-not-allowed' });
  });

  it('are refused when UserInfo refuses the token or answers for another user', async () => {
    userInfo.set('u1', { status: 401, body: { error: 'invalid_token' } });
    expect(await verifier.check(await cis2Token())).toEqual({ refused: 'userinfo-refused' });
    userInfo.set('u1', { status: 200, body: { ...ada, sub: 'u2' } });
    expect(await verifier.check(await cis2Token())).toEqual({ refused: 'userinfo-refused' });
  });

  it('are refused, naming the issuer, when the identity service cannot be reached or fails', async () => {
    userInfo.set('u1', 'unreachable');
    expect(await verifier.check(await cis2Token())).toEqual({
      refused: 'identity-service-unreachable',
      issuer: clinicians.issuer,
    });
    userInfo.set('u1', { status: 503 });
    expect(await verifier.check(await cis2Token())).toEqual({
      refused: 'identity-service-unreachable',
      issuer: clinicians.issuer,
    });
  });
});

describe('keys found through discovery', () => {
  const JWKS = `${clinicians.issuer}/jwks`;
  let published: object[];
  let jwksFetches: number;
  const remote = () =>
    new TokenVerifier([clinicians], AUDIENCE, {
      fetch: async (url, init) => {
        if (url !== JWKS) return stubFetch(url, init);
        jwksFetches++;
        return new Response(JSON.stringify({ keys: published }), {
          headers: { 'content-type': 'application/json' },
        });
      },
    });
  const signed = async (key: Keys, kid: string) =>
    new SignJWT({ acr: 'AAL3_ANY', selected_roleid: 'r1' })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setSubject('u1')
      .setIssuer(clinicians.issuer)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(key.privateKey);
  const jwk = async (key: Keys, kid: string) => ({ ...(await exportJWK(key.publicKey)), kid, alg: 'ES256' });
  afterEach(() => jest.restoreAllMocks());

  it('follow a key rotation, fetching the keys again for a new kid at most once a minute', async () => {
    const first = await generateKeyPair('ES256');
    const second = await generateKeyPair('ES256');
    published = [await jwk(first, 'k1')];
    jwksFetches = 0;
    const remoteVerifier = remote();
    expect(await remoteVerifier.verify(await signed(first, 'k1'))).toEqual(
      expect.objectContaining({ org: 'RXX01' }),
    );
    expect(jwksFetches).toBe(1);
    // The issuer rotates: its new key signs from now on, the old one stays published.
    published = [await jwk(second, 'k2'), await jwk(first, 'k1')];
    const start = Date.now();
    const now = jest.spyOn(Date, 'now').mockReturnValue(start + 30_000);
    expect(await remoteVerifier.check(await signed(second, 'k2'))).toEqual({
      refused: 'verification-failed',
    });
    expect(jwksFetches).toBe(1); // within the minute: not fetched again
    now.mockReturnValue(start + 61_000);
    expect(await remoteVerifier.verify(await signed(second, 'k2'))).toEqual(
      expect.objectContaining({ org: 'RXX01' }),
    );
    expect(jwksFetches).toBe(2);
    // Old tokens still verify against the kept key; a key the issuer never published does not.
    expect(await remoteVerifier.verify(await signed(first, 'k1'))).toBeDefined();
    now.mockReturnValue(start + 200_000);
    expect(await remoteVerifier.check(await signed(await generateKeyPair('ES256'), 'k3'))).toEqual({
      refused: 'verification-failed',
    });
    expect(await remoteVerifier.check(await signed(await generateKeyPair('ES256'), 'k1'))).toEqual({
      refused: 'verification-failed',
    });
  });
});

describe('JWT_ISSUERS', () => {
  const json = (issuers: unknown) => JSON.stringify(issuers);

  it('refuses an orgPattern that is no regular expression, naming it', () => {
    const problems = (issuers: unknown) =>
      checkIssuers(issuers).problems.map((problem) => [problem.path, problem.message]);
    expect(problems([clinicians, { ...councils, orgPattern: '^E\\d{8' }])).toEqual([
      ['1.orgPattern', 'orgPattern "^E\\\\d{8" is not a regular expression: Incomplete quantifier'],
    ]);
    expect(problems([{ ...councils, orgPattern: '' }])).toEqual([
      ['0.orgPattern', 'orgPattern must not be empty'],
    ]);
    expect(() => parseIssuers(json([{ ...councils, orgPattern: '[E' }]))).toThrow(/orgPattern/);
    expect(() =>
      readEnvironment(environments.authorizer, { JWT_ISSUERS: json([{ ...councils, orgPattern: '(' }]) }),
    ).toThrow(EnvironmentError);
  });

  it('refuses an issuer without roles, with no role, or with a role the service does not have', () => {
    const { roles: _roles, ...withoutRoles } = councils;
    expect(() => parseIssuers(json([withoutRoles]))).toThrow(/roles/);
    expect(() => parseIssuers(json([{ ...councils, roles: [] }]))).toThrow(
      /roles must list at least one role/,
    );
    expect(() => parseIssuers(json([{ ...councils, roles: ['council', 'admin'] }]))).toThrow(/roles/);
    const { orgPattern: _orgPattern, ...withoutPattern } = councils;
    expect(() => parseIssuers(json([withoutPattern]))).toThrow(/orgPattern/);
  });

  it('refuses an issuer without a kind, a cis2 issuer asserting other roles, and a discovery URL over plain http', () => {
    const { kind: _kind, ...withoutKind } = councils;
    expect(() => parseIssuers(json([withoutKind]))).toThrow(/kind/);
    expect(() => parseIssuers(json([{ ...councils, kind: 'password' }]))).toThrow(/kind/);
    expect(() => parseIssuers(json([{ ...clinicians, roles: ['clinician', 'auditor'] }]))).toThrow(
      /cis2 issuer asserts the clinician role only/,
    );
    const { audience: _audience, ...unbound } = clinicians;
    expect(() => parseIssuers(json([unbound]))).toThrow(/must name its audience or the clients/);
    expect(parseIssuers(json([{ ...unbound, clients: ['web-view'] }]))).toHaveLength(1);
    expect(() =>
      parseIssuers(
        json([{ ...councils, discoveryUrl: 'http://auth.example.org/.well-known/openid-configuration' }]),
      ),
    ).toThrow(/https/);
    expect(() => parseIssuers(json([{ ...councils, issuer: 'http://auth.example.org' }]))).toThrow(/https/);
    // The local provider, on a loopback address, is plain http.
    const local = { ...councils, issuer: 'http://127.0.0.1:41234/systems' };
    expect(parseIssuers(json([local]))).toEqual([local]);
  });

  it('refuses an authorizer environment without issuers', () => {
    expect(() => readEnvironment(environments.authorizer, {})).toThrow(/JWT_ISSUERS must be set/);
  });

  it('is read by the authorizer without zod, with the answers and messages of its environment schema', () => {
    const form =
      'must be a JSON list of { "kind" (cis2 or client-credentials), "issuer", "discoveryUrl"?, "audience"?, "roles", "orgPattern", "acr"?, "clients"? } (the stacks set it; without it every token is refused)';
    const cases: [Record<string, string>, string | { JWT_ISSUERS: IssuerConfig[]; JWT_AUDIENCE: string }][] =
      [
        [{}, 'JWT_ISSUERS must be set'],
        [{ JWT_ISSUERS: '{' }, `JWT_ISSUERS ${form}`],
        [{ JWT_ISSUERS: json({ ...councils }) }, `JWT_ISSUERS ${form}`],
        [{ JWT_ISSUERS: json([{ ...councils, orgPattern: '(' }]) }, `JWT_ISSUERS ${form}`],
        [
          { JWT_ISSUERS: json([councils]), JWT_AUDIENCE: '' },
          'JWT_AUDIENCE must not be empty: the audience tokens must name',
        ],
        [
          { JWT_ISSUERS: '[]', JWT_AUDIENCE: '' },
          'JWT_AUDIENCE must not be empty: the audience tokens must name',
        ],
        [
          { JWT_ISSUERS: json([councils]) },
          { JWT_ISSUERS: [councils], JWT_AUDIENCE: 'child-protection-sharing' },
        ],
        [
          { JWT_ISSUERS: json([clinicians, councils]), JWT_AUDIENCE: 'other' },
          { JWT_ISSUERS: [clinicians, councils], JWT_AUDIENCE: 'other' },
        ],
      ];
    for (const [source, expected] of cases) {
      if (typeof expected === 'string') {
        expect(() => readAuthorizerSettings(source)).toThrow(`Invalid environment: ${expected}`);
        expect(() => readEnvironment(environments.authorizer, source)).toThrow(
          `Invalid environment: ${expected}`,
        );
      } else {
        expect(readAuthorizerSettings(source)).toEqual(expected);
        expect(readEnvironment(environments.authorizer, source)).toEqual(expected);
      }
    }
  });

  it('reads an issuer URL as given less surrounding spaces, tabs and line breaks', () => {
    const [issuer] = parseIssuers(json([{ ...councils, issuer: ' https://auth.exam\tple.org/systems\n ' }]));
    expect(issuer?.issuer).toBe('https://auth.example.org/systems');
    expect(() => parseIssuers(json([{ ...councils, issuer: 'not a url' }]))).toThrow(
      '0.issuer: must be a URL',
    );
    expect(() => parseIssuers(json([{ ...councils, colour: 'blue' }]))).toThrow(
      '0.colour: is not a field of an issuer',
    );
    expect(() => parseIssuers(json({}))).toThrow('list: must be a list of issuers');
  });

  it('accepts issuers with roles and an orgPattern', () => {
    expect(parseIssuers(json([clinicians, councils]))).toEqual([clinicians, councils]);
    // Read once, into the list the verifier takes.
    expect(readEnvironment(environments.authorizer, { JWT_ISSUERS: json([councils]) }).JWT_ISSUERS).toEqual([
      councils,
    ]);
  });
});

describe('one spelling per token', () => {
  const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

  it('refuses the other spellings base64url allows of a signed token (each would be its own rate key)', async () => {
    const token = await tokenOf(councils, { role: 'council', org: 'E09000001' });
    expect(await verifier.check(token)).toEqual({ payload: expect.objectContaining({ org: 'E09000001' }) });
    // The signature's last character carries unused bits: changing them leaves the bytes, so jose
    // would verify it, as the same token.
    const signature = token.slice(token.lastIndexOf('.') + 1);
    const last = signature.at(-1) as string;
    const sibling = BASE64URL_ALPHABET.split('').find(
      (candidate) =>
        candidate !== last &&
        Buffer.from(`${signature.slice(0, -1)}${candidate}`, 'base64url').equals(
          Buffer.from(signature, 'base64url'),
        ),
    );
    expect(sibling).toBeDefined();
    const respelt = `${token.slice(0, -1)}${sibling}`;
    expect(await verifier.check(respelt)).toEqual({ refused: 'malformed-token' });
  });
});
