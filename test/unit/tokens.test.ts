/**
 * Each trusted issuer is bound to the roles it may assert and the organisations (orgPattern) it may
 * assert them for: a token asserting anything else is refused (401), however well it is signed.
 */
import { generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { EnvironmentError, environments, IssuersSchema, readEnvironment } from '../../functions/environment';
import { type IssuerConfig, LOCAL_ISSUER, parseIssuers, TokenVerifier } from '../../functions/http/tokens';
import { devKey, signDevToken } from '../../local/dev-key';

const AUDIENCE = 'child-protection-sharing';
const clinicians: IssuerConfig = {
  issuer: 'https://identity.example.nhs.uk/realms/healthcare',
  jwksUri: 'https://identity.example.nhs.uk/realms/healthcare/jwks',
  roles: ['clinician'],
  orgPattern: '^[A-Z0-9]{3,6}$',
};
const councils: IssuerConfig = {
  issuer: 'https://councils-auth.example.org',
  jwksUri: 'https://councils-auth.example.org/.well-known/jwks.json',
  roles: ['council'],
  orgPattern: '^E\\d{8}$',
};

type Keys = Awaited<ReturnType<typeof generateKeyPair>>;
const keys = new Map<string, Keys>();
let verifier: TokenVerifier;

beforeAll(async () => {
  for (const issuer of [clinicians, councils]) keys.set(issuer.issuer, await generateKeyPair('ES256'));
  // Each issuer's public key, in place of fetching its JWKS.
  verifier = new TokenVerifier([clinicians, councils], AUDIENCE, { deployed: false }, (issuer) => {
    const key = keys.get(issuer.issuer)?.publicKey;
    if (!key) throw new Error(`no key for ${issuer.issuer}`);
    return async () => key;
  });
});

/** A token of `issuer`, signed with its own key (or `signer`'s). */
async function tokenOf(
  issuer: IssuerConfig,
  claims: JWTPayload,
  signer: IssuerConfig = issuer,
): Promise<string> {
  const key = keys.get(signer.issuer)?.privateKey as Keys['privateKey'];
  return new SignJWT({ name: 'Example', ...claims })
    .setProtectedHeader({ alg: 'ES256' })
    .setSubject('s1')
    .setIssuer(issuer.issuer)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(key);
}

describe('issuers bound to roles and organisations', () => {
  it('accepts what each issuer may assert', async () => {
    const council = await verifier.check(await tokenOf(councils, { role: 'council', org: 'E09000001' }));
    expect(council).toEqual({ payload: expect.objectContaining({ role: 'council', org: 'E09000001' }) });
    const clinician = await verifier.verify(await tokenOf(clinicians, { role: 'clinician', org: 'RXX01' }));
    expect(clinician).toEqual(expect.objectContaining({ role: 'clinician', org: 'RXX01' }));
  });

  it("refuses a council issuer's token asserting a role it may not assert, whatever its signature", async () => {
    for (const role of ['auditor', 'clinician', 'demographics']) {
      const token = await tokenOf(councils, { role, org: 'E09000001' });
      expect(await verifier.check(token)).toEqual({ refused: 'role-not-allowed-for-issuer' });
      expect(await verifier.verify(token)).toBeUndefined();
    }
    // And the clinicians' issuer may not speak for a council.
    const asCouncil = await tokenOf(clinicians, { role: 'council', org: 'E09000001' });
    expect(await verifier.check(asCouncil)).toEqual({ refused: 'role-not-allowed-for-issuer' });
  });

  it("refuses a council issuer's token for an organisation its orgPattern does not match", async () => {
    const token = await tokenOf(councils, { role: 'council', org: 'RXX01' });
    expect(await verifier.check(token)).toEqual({ refused: 'org-not-allowed-for-issuer' });
    expect(await verifier.verify(token)).toBeUndefined();
    // The clinicians' issuer may not assert a council's code either.
    const clinician = await tokenOf(clinicians, { role: 'clinician', org: 'E09000001' });
    expect(await verifier.check(clinician)).toEqual({ refused: 'org-not-allowed-for-issuer' });
  });

  it('matches orgPattern against the whole org, anchored or not', async () => {
    const unanchored = { ...councils, orgPattern: 'E\\d{8}' };
    const key = keys.get(councils.issuer)?.publicKey as Keys['publicKey'];
    const loose = new TokenVerifier([unanchored], AUDIENCE, { deployed: false }, () => async () => key);
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

  it('lets the local development issuer assert every role for any organisation', async () => {
    const local = new TokenVerifier([councils], AUDIENCE, {
      localKey: JSON.stringify((await devKey()).publicJwk),
      deployed: false,
    });
    for (const [role, org] of [
      ['clinician', 'RXX01'],
      ['council', 'E09000001'],
      ['auditor', 'X26'],
      ['demographics', 'X09'],
    ] as const) {
      const payload = await local.verify(await signDevToken({ sub: 'u1', name: 'Dev', role, org }));
      expect(payload).toEqual(expect.objectContaining({ iss: LOCAL_ISSUER, role, org }));
    }
  });
});

describe('JWT_ISSUERS', () => {
  const json = (issuers: unknown) => JSON.stringify(issuers);

  it('refuses an orgPattern that is no regular expression, naming it', () => {
    const problems = (issuers: unknown) =>
      IssuersSchema.safeParse(issuers).error?.issues.map((issue) => [issue.path.join('.'), issue.message]);
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

  it('accepts issuers with roles and an orgPattern', () => {
    expect(parseIssuers(json([clinicians, councils]))).toEqual([clinicians, councils]);
    expect(readEnvironment(environments.authorizer, { JWT_ISSUERS: json([councils]) }).JWT_ISSUERS).toBe(
      json([councils]),
    );
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
