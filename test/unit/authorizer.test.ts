import { readFileSync } from 'node:fs';
import { jest } from '@jest/globals';
import type { APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { TokenVerifier } from '../../functions/http/tokens';
import { devKey, signDevToken } from '../../local/dev-key';
import { lambdaContext } from '../../local/http-adapter';

const sample = JSON.parse(
  readFileSync('events/authorizer-token.json', 'utf8'),
) as APIGatewayTokenAuthorizerEvent;
const claims = {
  sub: 'u7',
  name: 'Dr Grace Hopper',
  org: 'RYY02',
  role: 'clinician',
  activities: ['B0107'],
  setting: 'emergency-department',
};
let handler: (event: APIGatewayTokenAuthorizerEvent) => Promise<unknown>;

// A council systems' issuer as a stage configures it, its key set served by a stubbed fetch below.
const COUNCILS_ISSUER = 'https://councils-auth.example.org';
const COUNCILS_JWKS = 'https://councils-auth.example.org/.well-known/jwks.json';
let councilKeys: Awaited<ReturnType<typeof generateKeyPair>>;

beforeAll(async () => {
  process.env.LOCAL_JWT_PUBLIC_JWK = JSON.stringify((await devKey()).publicJwk);
  councilKeys = await generateKeyPair('ES256', { extractable: true });
  process.env.JWT_ISSUERS = JSON.stringify([
    { issuer: COUNCILS_ISSUER, jwksUri: COUNCILS_JWKS, roles: ['council'], orgPattern: '^E\\d{8}$' },
  ]);
  const authorizer = await import('../../functions/authorizer');
  handler = (event) => authorizer.handler(event, lambdaContext('authorizer', 'unit'));
});

const withToken = (token: string): APIGatewayTokenAuthorizerEvent => ({
  ...sample,
  authorizationToken: `Bearer ${token}`,
});

describe('the authorizer', () => {
  it('allows the whole API for a valid token and passes the claims on as context', async () => {
    const result = await handler(withToken(await signDevToken(claims)));
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
        orgName: '',
        role: 'clinician',
        roleName: '',
        activities: '["B0107"]',
        setting: 'emergency-department',
      },
    });
  });

  it('refuses a token signed with another key, even claiming the local issuer', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ name: 'X', org: 'RYY02', role: 'clinician' })
      .setProtectedHeader({ alg: 'ES256' })
      .setSubject('u7')
      .setIssuer('urn:child-protection-sharing:local-development')
      .setAudience('child-protection-sharing')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
    await expect(handler(withToken(forged))).rejects.toThrow('Unauthorized');
  });

  it('refuses permission codes that are not one capital letter and four digits, so none can be smuggled', async () => {
    // Comma-joined in the context, "Z,B0107" used to reach the functions as two codes: Z and B0107.
    for (const activities of [['Z,B0107'], ['B0107', 'b0170'], ['B01070'], ['B0107 ']]) {
      await expect(handler(withToken(await signDevToken({ ...claims, activities })))).rejects.toThrow(
        'Unauthorized',
      );
    }
    const both = (await handler(
      withToken(await signDevToken({ ...claims, activities: ['B0107', 'B0170'] })),
    )) as {
      context: Record<string, string>;
    };
    const { claimsFromAuthorizer } = await import('../../functions/http/api-handler');
    expect(claimsFromAuthorizer(both.context, new Date())?.activities).toEqual(['B0107', 'B0170']);
    // A context whose activities are not the authorizer's JSON is no claims at all.
    expect(claimsFromAuthorizer({ ...both.context, activities: 'Z,B0107' }, new Date())).toBeUndefined();
  });

  it('refuses a token without exp, and one that lives longer than 12 hours', async () => {
    const { privateJwk } = await devKey();
    const { importJWK } = await import('jose');
    const key = await importJWK(privateJwk, 'ES256');
    const noExpiry = await new SignJWT({ name: 'X', org: 'RYY02', role: 'clinician' })
      .setProtectedHeader({ alg: 'ES256' })
      .setSubject('u7')
      .setIssuer('urn:child-protection-sharing:local-development')
      .setAudience('child-protection-sharing')
      .setIssuedAt()
      .sign(key);
    await expect(handler(withToken(noExpiry))).rejects.toThrow('Unauthorized');
    const old = await signDevToken(claims, {
      issuedAt: Math.floor(Date.now() / 1000) - 13 * 3600,
      ttlSeconds: 14 * 3600,
    });
    await expect(handler(withToken(old))).rejects.toThrow('Unauthorized');
  });

  it('refuses to load the local development key inside a deployed Lambda', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = JSON.stringify(await exportJWK(publicKey));
    expect(() => new TokenVerifier([], 'aud', { localKey: jwk, deployed: true })).toThrow(
      /cannot be used in a deployed function/,
    );
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

    beforeEach(async () => {
      const jwks = { keys: [{ ...(await exportJWK(councilKeys.publicKey)), kid: 'c1', alg: 'ES256' }] };
      jest.spyOn(globalThis, 'fetch').mockImplementation(async (url) => {
        if (String(url) !== COUNCILS_JWKS) throw new Error(`unexpected fetch of ${String(url)}`);
        return new Response(JSON.stringify(jwks), { headers: { 'content-type': 'application/json' } });
      });
    });
    afterEach(() => jest.restoreAllMocks());

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
