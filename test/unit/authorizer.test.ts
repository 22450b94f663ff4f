/**
 * The authorizer through its production path: issuers found through discovery, keys from their JWKS,
 * a CIS2 token's role profile from UserInfo, all answered by a stubbed fetch (keys generated here).
 */
import { readFileSync } from 'node:fs';
import { jest } from '@jest/globals';
import type { APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { lambdaContext } from '../../local/http-adapter';

const sample = JSON.parse(
  readFileSync('events/authorizer-token.json', 'utf8'),
) as APIGatewayTokenAuthorizerEvent;
let handler: (event: APIGatewayTokenAuthorizerEvent) => Promise<unknown>;

// A stage's two issuers: CIS2 for clinicians, and a council systems' client-credentials issuer.
const CIS2_ISSUER =
  'https://cis2.example.nhs.uk/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare';
const COUNCILS_ISSUER = 'https://councils-auth.example.org';
let cis2Keys: Awaited<ReturnType<typeof generateKeyPair>>;
let councilKeys: Awaited<ReturnType<typeof generateKeyPair>>;
/** What UserInfo answers, replaced by a test; `unreachable` makes the call fail. */
let userInfo: Record<string, unknown> | 'unreachable';
const grace = {
  sub: 'u7',
  name: 'Dr Grace Hopper',
  nhsid_nrbac_roles: [
    { person_roleid: 'r7', org_code: 'RYY02', role_name: 'Staff Nurse', activity_codes: ['B0107'] },
  ],
  nhsid_user_orgs: [{ org_code: 'RYY02', org_name: 'Example Community Health NHS Trust' }],
};

beforeAll(async () => {
  cis2Keys = await generateKeyPair('ES256', { extractable: true });
  councilKeys = await generateKeyPair('ES256', { extractable: true });
  process.env.JWT_ISSUERS = JSON.stringify([
    // As deployed: CIS2's access tokens name no audience, so the issuer lists the clients it accepts.
    {
      kind: 'cis2',
      issuer: CIS2_ISSUER,
      roles: ['clinician'],
      orgPattern: '^R[A-Z0-9]{2,5}$',
      clients: ['clinical-system'],
    },
    { kind: 'client-credentials', issuer: COUNCILS_ISSUER, roles: ['council'], orgPattern: '^E\\d{8}$' },
  ]);
  const authorizer = await import('../../functions/authorizer');
  handler = (event) => authorizer.handler(event, lambdaContext('authorizer', 'unit'));
});

beforeEach(async () => {
  userInfo = grace;
  const jwks: Record<string, unknown> = {
    [`${CIS2_ISSUER}/jwks`]: {
      keys: [{ ...(await exportJWK(cis2Keys.publicKey)), kid: 'n1', alg: 'ES256' }],
    },
    [`${COUNCILS_ISSUER}/jwks`]: {
      keys: [{ ...(await exportJWK(councilKeys.publicKey)), kid: 'c1', alg: 'ES256' }],
    },
  };
  jest.spyOn(globalThis, 'fetch').mockImplementation(async (url) => {
    const json = (body: unknown) =>
      new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
    const address = String(url);
    for (const issuer of [CIS2_ISSUER, COUNCILS_ISSUER]) {
      if (address === `${issuer}/.well-known/openid-configuration`)
        return json({ issuer, jwks_uri: `${issuer}/jwks`, userinfo_endpoint: `${issuer}/userinfo` });
      if (address === `${issuer}/jwks`) return json(jwks[address]);
    }
    if (address === `${CIS2_ISSUER}/userinfo`) {
      if (userInfo === 'unreachable') throw new TypeError('fetch failed');
      return json(userInfo);
    }
    throw new Error(`unexpected fetch of ${address}`);
  });
});
afterEach(() => jest.restoreAllMocks());

const withToken = (token: string): APIGatewayTokenAuthorizerEvent => ({
  ...sample,
  authorizationToken: `Bearer ${token}`,
});

/** A CIS2 access token for u7 signed in with role profile r7 (or as `claims` say). */
const cis2Token = (
  claims: JWTPayload = {},
  { expires = '1h' as string | null, key = cis2Keys.privateKey } = {},
) => {
  const jwt = new SignJWT({
    acr: 'AAL3_ANY',
    selected_roleid: 'r7',
    setting: 'emergency-department',
    client_id: 'clinical-system',
    ...claims,
  })
    .setProtectedHeader({ alg: 'ES256', kid: 'n1' })
    .setSubject('u7')
    .setIssuer(CIS2_ISSUER)
    .setAudience('child-protection-sharing');
  if (claims.iat === undefined) jwt.setIssuedAt();
  if (expires && claims.exp === undefined) jwt.setExpirationTime(expires);
  return jwt.sign(key);
};

describe('the authorizer', () => {
  it("allows the whole API for a valid CIS2 token and passes the selected role's claims on as context", async () => {
    const result = await handler(withToken(await cis2Token()));
    expect(result).toEqual({
      principalId: 'u7',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Action: 'execute-api:Invoke',
            Effect: 'Allow',
            Resource: 'arn:aws:execute-api:eu-west-2:123456789012:abcdef1234/prod/*',
          },
        ],
      },
      context: {
        exp: expect.stringMatching(/^\d{10}$/),
        sub: 'u7',
        name: 'Dr Grace Hopper',
        org: 'RYY02',
        orgName: 'Example Community Health NHS Trust',
        role: 'clinician',
        roleName: 'Staff Nurse',
        activities: '["B0107"]',
        setting: 'emergency-department',
      },
    });
  });

  it("refuses a token signed with another key, even naming the issuer and the issuer's key id", async () => {
    const { privateKey } = await generateKeyPair('ES256');
    await expect(handler(withToken(await cis2Token({}, { key: privateKey })))).rejects.toThrow(
      'Unauthorized',
    );
  });

  it('refuses permission codes that are not one capital letter and four digits, so none can be smuggled', async () => {
    // Comma-joined in the context, "Z,B0107" used to reach the functions as two codes: Z and B0107.
    for (const activity_codes of [['Z,B0107'], ['B0107', 'b0170'], ['B01070'], ['B0107 ']]) {
      userInfo = { ...grace, nhsid_nrbac_roles: [{ ...grace.nhsid_nrbac_roles[0], activity_codes }] };
      await expect(handler(withToken(await cis2Token({ jti: activity_codes.join() })))).rejects.toThrow(
        'Unauthorized',
      );
    }
    userInfo = {
      ...grace,
      nhsid_nrbac_roles: [{ ...grace.nhsid_nrbac_roles[0], activity_codes: ['B0107', 'B0170'] }],
    };
    const both = (await handler(withToken(await cis2Token({ jti: 'both' })))) as {
      context: Record<string, string>;
    };
    const { claimsFromAuthorizer } = await import('../../functions/http/api-handler');
    expect(claimsFromAuthorizer(both.context, new Date())?.activities).toEqual(['B0107', 'B0170']);
    // A context whose activities are not the authorizer's JSON is no claims at all.
    expect(claimsFromAuthorizer({ ...both.context, activities: 'Z,B0107' }, new Date())).toBeUndefined();
  });

  it('refuses a token without exp, and one that lives longer than 12 hours', async () => {
    await expect(handler(withToken(await cis2Token({}, { expires: null })))).rejects.toThrow('Unauthorized');
    const now = Math.floor(Date.now() / 1000);
    const old = await cis2Token({ iat: now - 13 * 3600, exp: now + 3600 });
    await expect(handler(withToken(old))).rejects.toThrow('Unauthorized');
  });

  it('refuses (401) when UserInfo cannot be reached, with an error log line naming the issuer and a metric, never the token', async () => {
    const { logger } = await import('../../functions/observability');
    const { metrics } = await import('../../functions/metrics');
    const error = jest.spyOn(logger, 'error');
    const addMetric = jest.spyOn(metrics, 'addMetric');
    jest.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => metrics);
    userInfo = 'unreachable';
    const token = await cis2Token({ jti: 'unreachable' });
    await expect(handler(withToken(token))).rejects.toThrow('Unauthorized');
    expect(error).toHaveBeenCalledWith('Identity service unreachable: token refused', {
      reason: 'identity-service-unreachable',
      issuer: CIS2_ISSUER,
    });
    expect(JSON.stringify(error.mock.calls)).not.toContain(token.split('.')[1]);
    expect(addMetric).toHaveBeenCalledWith('IdentityServiceUnreachable', 'Count', 1);
  });

  it('refuses (401) an unknown selected role and a token below the required assurance, logging why', async () => {
    const { logger } = await import('../../functions/observability');
    const info = jest.spyOn(logger, 'info');
    await expect(handler(withToken(await cis2Token({ selected_roleid: 'r9' })))).rejects.toThrow(
      'Unauthorized',
    );
    await expect(handler(withToken(await cis2Token({ acr: 'AAL1_USERPASS' })))).rejects.toThrow(
      'Unauthorized',
    );
    expect(info.mock.calls.filter(([message]) => message === 'Token refused')).toEqual([
      ['Token refused', { reason: 'selected-role-unknown' }],
      ['Token refused', { reason: 'acr-not-met' }],
    ]);
  });

  describe("a configured issuer's tokens, through the production key path (the JWKS fetched over https)", () => {
    const councilToken = (claims: Record<string, unknown>) =>
      new SignJWT({ name: 'Example case system', ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: 'c1' })
        .setSubject('la-system')
        .setIssuer(COUNCILS_ISSUER)
        .setAudience('child-protection-sharing')
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(councilKeys.privateKey);

    it('allows what the issuer may assert', async () => {
      const result = (await handler(
        withToken(await councilToken({ role: 'council', org: 'E09000001' })),
      )) as {
        context: Record<string, string>;
      };
      expect(result.context).toEqual(expect.objectContaining({ role: 'council', org: 'E09000001' }));
    });

    it('refuses (401) a role the issuer may not assert, whatever its signature, logging why and nothing else', async () => {
      const { logger } = await import('../../functions/observability');
      const info = jest.spyOn(logger, 'info');
      for (const role of ['auditor', 'clinician', 'demographics']) {
        const token = await councilToken({ role, org: 'E09000001', activities: ['B0107'] });
        await expect(handler(withToken(token))).rejects.toThrow('Unauthorized');
      }
      const refusals = info.mock.calls.filter(([message]) => message === 'Token refused');
      expect(refusals).toEqual(Array(3).fill(['Token refused', { reason: 'role-not-allowed-for-issuer' }]));
    });

    it("refuses (401) an organisation outside the issuer's orgPattern", async () => {
      const { logger } = await import('../../functions/observability');
      const info = jest.spyOn(logger, 'info');
      await expect(handler(withToken(await councilToken({ role: 'council', org: 'RXX01' })))).rejects.toThrow(
        'Unauthorized',
      );
      expect(info).toHaveBeenCalledWith('Token refused', { reason: 'org-not-allowed-for-issuer' });
    });
  });
});
