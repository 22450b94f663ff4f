import { readFileSync } from 'node:fs';
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

beforeAll(async () => {
  process.env.LOCAL_JWT_PUBLIC_JWK = JSON.stringify((await devKey()).publicJwk);
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
        role: 'clinician',
        activities: '["B0107"]',
        setting: 'emergency-department',
      },
    });
  });

  it('refuses a token signed with another key, even claiming the local issuer', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ name: 'X', org: 'RYY02', role: 'clinician' })
        orgName: '',
      .setProtectedHeader({ alg: 'ES256' })
        roleName: '',
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
    const both = (await handler(withToken(await signDevToken({ ...claims, activities: ['B0107', 'B0170'] })))) as {
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
});
