/**
 * Identity through a real OpenID provider (local/identity-provider.ts): CIS2 sign-in with a selected
 * role profile read back through UserInfo, the authorizer's refusals (unknown role profile, too low an
 * assurance, a key not in the JWKS), a key rotation, client-credentials systems bound to their
 * registration, and an unreachable identity service. This file runs a provider of its own: it rotates
 * that provider's keys and finally stops it, which the suite's shared provider must never see.
 */
import { jest } from '@jest/globals';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { type IdentityProvider, startIdentityProvider } from '../../local/identity-provider';
import { clientCredentials, registerSystem, rotateKeys, signIn } from '../../local/identity-tokens';
import { forgedToken, tokenFor, tokens } from '../../testkit';
import { publishPlan, registerCouncil, startTestService, type TestService, testNhsNumber } from './harness';

let identity: IdentityProvider;
let service: TestService;
const COUNCIL = 'E09000001';

beforeAll(async () => {
  identity = await startIdentityProvider({ audience: 'child-protection-sharing' });
  // The testkit's tokens, and the service's trust, both from this file's provider.
  process.env.LOCAL_IDENTITY_ORIGIN = identity.origin;
  service = await startTestService({ tablePrefix: 'identity', identityOrigin: identity.origin });
  await registerCouncil(service, COUNCIL);
}, 60_000);

afterAll(async () => {
  await service?.close();
  await identity?.close();
});

const lookup = (nhsNumber: string, token: string) =>
  service.request('GET', `/v1/children/${nhsNumber}`, { token });

describe('CIS2 sign-in', () => {
  it("lists every test user's role profiles on an accessible sign-in page", async () => {
    const authorize = new URL(`${identity.cis2Issuer}/auth`);
    authorize.search = new URLSearchParams({
      client_id: 'web-view',
      response_type: 'code',
      redirect_uri: 'http://127.0.0.1:5173/web/',
      scope: 'openid profile nationalrbacaccess',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }).toString();
    const started = await fetch(authorize, { redirect: 'manual' });
    expect(started.status).toBe(303);
    const page = await fetch(new URL(started.headers.get('location') as string, authorize), {
      headers: {
        Cookie: started.headers
          .getSetCookie()
          .map((cookie) => cookie.split(';')[0])
          .join('; '),
      },
    });
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('<label for="role-profile">Role profile</label>');
    expect(html).toContain('<select id="role-profile"');
    expect(html).toContain('Dr Ada Lovelace — Staff Nurse at Example Hospitals NHS Trust (B0107)</option>');
    expect(html).toContain(
      'Dr Mary Seacole — Paediatric Registrar at Example Hospitals NHS Trust (B0107, B0170)',
    );
    expect(html).toContain('Dr Mary Seacole — Salaried GP at Example Out of Hours Service (B0170)');
    expect(html).toMatch(/<button type="submit">Sign in<\/button>/);
  });

  it('gives a user with two role profiles the organisation, job role and codes of the one selected', async () => {
    const child = testNhsNumber(71_001);
    await publishPlan(service, COUNCIL, child, 'CPP', { startDate: '2026-01-05' });
    // u3 (Dr Mary Seacole) holds two role profiles: notifying at RXX01, silent at RZZ03.
    const registrar = await signIn(identity.origin, 'u3', '555021935301');
    const gp = await signIn(identity.origin, 'u3', '555021935302');
    expect(decodeJwt(registrar)).toMatchObject({
      sub: 'u3',
      selected_roleid: '555021935301',
      acr: 'AAL3_ANY',
    });

    expect((await lookup(child, registrar)).status).toBe(200);
    const asGp = await lookup(child, gp);
    expect(asGp.status).toBe(200);
    expect(asGp.body.previousAccesses).toEqual([
      {
        accessedAt: expect.any(String),
        userId: 'u3',
        userName: 'Dr Mary Seacole',
        roleName: 'Paediatric Registrar',
        organisation: 'RXX01',
        organisationName: 'Example Hospitals NHS Trust',
        setting: 'paediatric-ward',
      },
    ]);
    // As the GP (B0170 only) the lookup was silent: the council heard of the registrar's lookup alone.
    const messages = await service.takeMessages(COUNCIL);
    expect(messages.map((message) => message.accessedBy.organisation)).toEqual(['RXX01']);
    expect((await lookup(child, registrar)).body.previousAccesses).toHaveLength(1);
  });

  it('refuses (401) a selected role profile the user does not hold, and an assurance below AAL3_ANY', async () => {
    const child = testNhsNumber(71_002);
    const now = Math.floor(Date.now() / 1000);
    const unknownRole = await forgedToken('cis2', {
      sub: 'u1',
      aud: 'child-protection-sharing',
      iat: now,
      exp: now + 600,
      acr: 'AAL3_ANY',
      selected_roleid: '999999999999',
    });
    const noRole = await forgedToken('cis2', {
      sub: 'u1',
      aud: 'child-protection-sharing',
      iat: now,
      exp: now + 600,
      acr: 'AAL3_ANY',
    });
    // A user signed in with a password only (AAL1): a real token from the provider, below the bar.
    const password = await tokenFor({
      sub: 'u-password',
      name: 'Dr Password Only',
      org: 'RXX01',
      role: 'clinician',
      activities: ['B0107'],
      acr: 'AAL1_USERPASS',
    });
    expect(decodeJwt(password).acr).toBe('AAL1_USERPASS');
    const before = await service.scanTable();
    for (const token of [unknownRole, noRole, password]) {
      const refused = await lookup(child, token);
      expect({ status: refused.status, code: refused.body.error.code }).toEqual({
        status: 401,
        code: 'UNAUTHENTICATED',
      });
    }
    expect(await service.scanTable()).toEqual(before);
  });

  it('refuses (401) a token signed by a key the issuer does not publish, even naming its issuer', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const now = Math.floor(Date.now() / 1000);
    const impostor = await new SignJWT({ acr: 'AAL3_ANY', selected_roleid: '555021935107' })
      .setProtectedHeader({ alg: 'ES256', kid: 'not-published' })
      .setSubject('u1')
      .setIssuer(identity.cis2Issuer)
      .setAudience('child-protection-sharing')
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(privateKey);
    const refused = await lookup(testNhsNumber(71_003), impostor);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('follows a key rotation: a new kid is fetched, no sooner than a minute after the last fetch', async () => {
    const child = testNhsNumber(71_004);
    const before = await signIn(identity.origin, 'u1', '555021935107');
    const keptForLater = await signIn(identity.origin, 'u2', '555021935170', 900);
    const lifetime = decodeJwt(keptForLater);
    expect((lifetime.exp as number) - (lifetime.iat as number)).toBe(900); // the token CLI's --ttl
    expect((await lookup(child, before)).status).toBe(200); // the authorizer holds the first key set
    const kid = await rotateKeys(identity.origin);
    const after = await signIn(identity.origin, 'u1', '555021935107');
    expect(decodeProtectedHeader(after).kid).toBe(kid);
    expect(decodeProtectedHeader(before).kid).not.toBe(kid);
    const start = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(start + 1_000);
    try {
      // Within the minute the key set is not fetched again: the new key is not yet known.
      expect((await lookup(child, after)).status).toBe(401);
      clock.mockReturnValue(start + 61_000);
      expect((await lookup(child, after)).status).toBe(200);
    } finally {
      clock.mockRestore();
    }
    // A token signed before the rotation, first used after it, still verifies: the old key stays published.
    expect(decodeProtectedHeader(keptForLater).kid).toBe(decodeProtectedHeader(before).kid);
    expect((await lookup(child, keptForLater)).status).toBe(200);
  });
});

describe('client-credentials systems', () => {
  it('act for their council only, with the role and name of their registration', async () => {
    const own = await tokens.council(COUNCIL, { sub: 'own-case-system', name: 'Own case system' });
    expect(decodeJwt(own)).toMatchObject({
      sub: 'own-case-system',
      role: 'council',
      org: COUNCIL,
      name: 'Own case system',
    });
    const child = testNhsNumber(71_010);
    const mine = await service.request('PUT', `/v1/councils/${COUNCIL}/plans/${child}/CPP`, {
      token: own,
      body: { startDate: '2026-02-01' },
    });
    expect(mine.status).toBe(201);
    const other = await service.request('PUT', `/v1/councils/E09000033/plans/${child}/CPP`, {
      token: own,
      body: { startDate: '2026-02-01' },
    });
    expect({ status: other.status, code: other.body.error.code }).toEqual({ status: 403, code: 'FORBIDDEN' });
  });

  it('are refused a token for any role but the one registered', async () => {
    const { client_id, client_secret } = await registerSystem(
      identity.origin,
      { sub: 'council-client', name: 'Council client', org: COUNCIL, role: 'council' },
      120,
    );
    const granted = decodeJwt(await clientCredentials(identity.origin, client_id, client_secret, 'council'));
    expect(granted).toMatchObject({ role: 'council', org: COUNCIL });
    expect((granted.exp as number) - (granted.iat as number)).toBe(120); // the registration's lifetime
    for (const scope of ['auditor', 'demographics', 'council auditor']) {
      await expect(clientCredentials(identity.origin, client_id, client_secret, scope)).rejects.toMatchObject(
        {
          error: 'invalid_scope',
        },
      );
    }
    // And a wrong secret gets nothing at all.
    await expect(
      clientCredentials(identity.origin, client_id, 'not-the-secret', 'council'),
    ).rejects.toMatchObject({
      error: 'invalid_client',
    });
  });
});

describe('an unreachable identity service', () => {
  it('refuses (401 with a body, never a bodiless 5xx), logging the failure without the token', async () => {
    const token = await signIn(identity.origin, 'u1', '555021935107', 900); // never used: not in any cache
    const { logger } = await import('../../functions/observability');
    const error = jest.spyOn(logger, 'error');
    await identity.close();
    const refused = await lookup(testNhsNumber(71_020), token);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toEqual({ code: 'UNAUTHENTICATED', message: expect.any(String) });
    expect(error).toHaveBeenCalledWith('Identity service unreachable: token refused', {
      reason: 'identity-service-unreachable',
      issuer: identity.cis2Issuer,
    });
    expect(JSON.stringify(error.mock.calls)).not.toContain(token);
    error.mockRestore();
  });
});
