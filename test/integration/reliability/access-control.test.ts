/**
 * Authorization matrix, token attacks and the enumeration defence.
 *
 * The matrix is generated from one table written here from the contract (api.md), not from the code's
 * own access rules: every route × every role × own / other organisation × each permission code, with
 * the exact status expected. Every token attack answers 401 and writes nothing. Lookups are rate
 * limited per user and per organisation with the same defaults as the deployed stack, and a burst sees
 * 429s that write nothing.
 */
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { isValidNhsNumber } from '../../../functions/core/nhs-number';
import { ErrorBodySchema } from '../../../functions/core/response-schemas';
import { routes } from '../../../functions/http/routes';
import { readLocalConfig } from '../../../local/config';
import { DEFAULT_RATE_LIMITS } from '../../../local/rate-limiter';
import { LimitsSchema } from '../../../stacks/config';
import { forgedToken, forgedTokenFor, tokenFor } from '../../../testkit';
import { publishPlan, registerCouncil, testNhsNumber } from '../harness';
import {
  count,
  FaultProxy,
  type ObservedWrite,
  type ReliabilityService,
  reliabilityRecorder,
  startReliabilityService,
} from './support';

const record = reliabilityRecorder('access-control');

type Role = 'clinician' | 'council' | 'auditor' | 'demographics';
type Org = 'own' | 'other';
type Codes = 'none' | 'B0107' | 'B0170' | 'both';

const ROLES: Role[] = ['clinician', 'council', 'auditor', 'demographics'];
const ORGS: Org[] = ['own', 'other'];
const CODES: Codes[] = ['none', 'B0107', 'B0170', 'both'];
const ACTIVITIES: Record<Codes, string[]> = {
  none: [],
  B0107: ['B0107'],
  B0170: ['B0170'],
  both: ['B0107', 'B0170'],
};

const COUNCIL = 'E09000001';
const OTHER_COUNCIL = 'E08000025';

/**
 * The contract's access rules, one row per route: who may call it and what it answers when they do.
 * "own" for a council means the council code in the path is its own (for an NHS number change: it holds
 * a plan for the old number); for other roles the organisation does not matter.
 */
const MATRIX: Record<string, { may: (role: Role, org: Org, codes: Codes) => boolean; status: number }> = {
  'PUT /v1/councils/{councilCode}': { may: (role, org) => role === 'council' && org === 'own', status: 200 },
  'PUT /v1/councils/{councilCode}/plans/{nhsNumber}/{planType}': {
    may: (role, org) => role === 'council' && org === 'own',
    status: 201,
  },
  'DELETE /v1/councils/{councilCode}/plans/{nhsNumber}/{planType}': {
    may: (role, org) => role === 'council' && org === 'own',
    status: 204,
  },
  'POST /v1/councils/{councilCode}/uploads': {
    may: (role, org) => role === 'council' && org === 'own',
    status: 200,
  },
  'GET /v1/children/{nhsNumber}': {
    may: (role, _org, codes) => role === 'clinician' && codes !== 'none',
    status: 200,
  },
  'GET /v1/audit/children/{nhsNumber}': { may: (role) => role === 'auditor', status: 200 },
  'GET /v1/audit/councils/{councilCode}': { may: (role) => role === 'auditor', status: 200 },
  'POST /v1/nhs-numbers/{oldNhsNumber}/superseded-by/{newNhsNumber}': {
    may: (role) => role === 'demographics',
    status: 200,
  },
  'PUT /v1/nhs-numbers/{nhsNumber}/sensitivity': { may: (role) => role === 'demographics', status: 200 },
  // Council read-back: its own registration and plans; a child's accesses while it holds a visible plan.
  'GET /v1/councils/{councilCode}': { may: (role, org) => role === 'council' && org === 'own', status: 200 },
  'GET /v1/councils/{councilCode}/plans/{nhsNumber}/{planType}': {
    may: (role, org) => role === 'council' && org === 'own',
    status: 200,
  },
  'GET /v1/councils/{councilCode}/plans': {
    may: (role, org) => role === 'council' && org === 'own',
    status: 200,
  },
  'GET /v1/councils/{councilCode}/children/{nhsNumber}/accesses': {
    may: (role, org) => role === 'council' && org === 'own',
    status: 200,
  },
  // The presence check: as the lookup.
  'GET /v1/children/{nhsNumber}/alert': {
    may: (role, _org, codes) => role === 'clinician' && codes !== 'none',
    status: 200,
  },
  // FHIR R4: the CapabilityStatement needs no token (anyone, any token); the CareTeam search without
  // IsUnscheduledAccessEvent is an unscheduled-care access (B0107); the AuditEvent search is a silent
  // read (B0107 or B0170). Refusals are OperationOutcomes (403 forbidden, ACCESS_DENIED).
  'GET /FHIR/R4/metadata': { may: () => true, status: 200 },
  'GET /FHIR/R4/CareTeam': {
    may: (role, _org, codes) => role === 'clinician' && (codes === 'B0107' || codes === 'both'),
    status: 200,
  },
  'GET /FHIR/R4/AuditEvent': {
    may: (role, _org, codes) => role === 'clinician' && codes !== 'none',
    status: 200,
  },
};

const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
const SPINE_ERROR_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/England-SpineErrorOrWarningCode';
const fhirSearchPath = (resource: string, nhsNumber: string) =>
  `/FHIR/R4/${resource}?patient:identifier=${encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${nhsNumber}`)}`;

/** True when the body is the contract's FHIR error: an OperationOutcome with this issue and Spine code. */
function isOutcome(body: any, issue: string, code: string): boolean {
  const first = body?.issue?.[0];
  return (
    body?.resourceType === 'OperationOutcome' &&
    first?.code === issue &&
    first?.details?.coding?.[0]?.system === SPINE_ERROR_SYSTEM &&
    first?.details?.coding?.[0]?.code === code
  );
}

let proxy: FaultProxy;
let service: ReliabilityService;
let seed = 0;
const fresh = () => testNhsNumber(90_000 + 10 * seed++);

beforeAll(async () => {
  proxy = await FaultProxy.start(process.env.AWS_ENDPOINT_URL_DYNAMODB as string);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = proxy.url;
  service = await startReliabilityService();
  await registerCouncil(service, COUNCIL);
  await registerCouncil(service, OTHER_COUNCIL);
}, 60_000);

afterAll(async () => {
  await service?.close();
  await proxy?.close();
});

function token(role: Role, org: Org, codes: Codes): Promise<string> {
  const organisation =
    role === 'council' ? (org === 'own' ? COUNCIL : OTHER_COUNCIL) : org === 'own' ? 'RXX01' : 'RYY02';
  return tokenFor({
    sub: `${role}-${org}-${codes}`,
    name: `Matrix ${role}`,
    org: organisation,
    role,
    activities: ACTIVITIES[codes],
    ...(role === 'clinician' ? { setting: 'emergency-department' } : {}),
  });
}

/** The request for a route, and the state it needs (a plan to delete, a plan whose number changes). */
async function prepare(key: string): Promise<{ method: string; path: string; body?: unknown }> {
  const nhsNumber = fresh();
  const planPath = `/v1/councils/${COUNCIL}/plans/${nhsNumber}/CPP`;
  switch (key) {
    case 'PUT /v1/councils/{councilCode}':
      return {
        method: 'PUT',
        path: `/v1/councils/${COUNCIL}`,
        body: { name: 'London Borough of Example', emergencyDutyPhone: '020 7946 0999' },
      };
    case 'PUT /v1/councils/{councilCode}/plans/{nhsNumber}/{planType}':
      return { method: 'PUT', path: planPath, body: { startDate: '2026-01-01' } };
    case 'DELETE /v1/councils/{councilCode}/plans/{nhsNumber}/{planType}':
      await publishPlan(service, COUNCIL, nhsNumber, 'CPP', { startDate: '2026-01-01' });
      return { method: 'DELETE', path: planPath };
    case 'POST /v1/councils/{councilCode}/uploads':
      return {
        method: 'POST',
        path: `/v1/councils/${COUNCIL}/uploads?mode=delta`,
        body: { records: [{ nhsNumber, planType: 'LAC', startDate: '2026-01-01' }] },
      };
    case 'GET /v1/children/{nhsNumber}':
      await publishPlan(service, COUNCIL, nhsNumber, 'CPP', { startDate: '2026-01-01' });
      return { method: 'GET', path: `/v1/children/${nhsNumber}` };
    case 'GET /v1/audit/children/{nhsNumber}':
      return { method: 'GET', path: `/v1/audit/children/${nhsNumber}` };
    case 'GET /v1/audit/councils/{councilCode}':
      return { method: 'GET', path: `/v1/audit/councils/${COUNCIL}` };
    case 'POST /v1/nhs-numbers/{oldNhsNumber}/superseded-by/{newNhsNumber}':
      await publishPlan(service, COUNCIL, nhsNumber, 'CPP', { startDate: '2026-01-01' });
      return { method: 'POST', path: `/v1/nhs-numbers/${nhsNumber}/superseded-by/${fresh()}` };
    case 'PUT /v1/nhs-numbers/{nhsNumber}/sensitivity':
      return { method: 'PUT', path: `/v1/nhs-numbers/${nhsNumber}/sensitivity`, body: { sensitive: true } };
    case 'GET /v1/councils/{councilCode}':
      return { method: 'GET', path: `/v1/councils/${COUNCIL}` };
    case 'GET /v1/councils/{councilCode}/plans/{nhsNumber}/{planType}':
      await publishPlan(service, COUNCIL, nhsNumber, 'CPP', { startDate: '2026-01-01' });
      return { method: 'GET', path: planPath };
    case 'GET /v1/councils/{councilCode}/plans':
      return { method: 'GET', path: `/v1/councils/${COUNCIL}/plans?status=all&limit=5` };
    case 'GET /v1/councils/{councilCode}/children/{nhsNumber}/accesses':
      await publishPlan(service, COUNCIL, nhsNumber, 'CPP', { startDate: '2026-01-01' });
      return { method: 'GET', path: `/v1/councils/${COUNCIL}/children/${nhsNumber}/accesses` };
    case 'GET /v1/children/{nhsNumber}/alert':
      await publishPlan(service, COUNCIL, nhsNumber, 'CPP', { startDate: '2026-01-01' });
      return { method: 'GET', path: `/v1/children/${nhsNumber}/alert` };
    case 'GET /FHIR/R4/metadata':
      return { method: 'GET', path: '/FHIR/R4/metadata' };
    case 'GET /FHIR/R4/CareTeam':
    case 'GET /FHIR/R4/AuditEvent':
      await publishPlan(service, COUNCIL, nhsNumber, 'CPP', { startDate: '2026-01-01' });
      return { method: 'GET', path: fhirSearchPath(key.slice('GET /FHIR/R4/'.length), nhsNumber) };
    default:
      throw new Error(`No request for ${key}: add the route to MATRIX`);
  }
}

/**
 * What a refused call wrote: nothing but, on a valid NHS number, its ACCESS_DENIED audit event (an
 * update of the caller's coalesced refusals for that number).
 */
function refusalWrites(writes: ObservedWrite[]): string[] {
  return writes.map((write) => {
    const values = write.body?.ExpressionAttributeValues;
    return write.operation === 'UpdateItem' &&
      String(write.body?.Key?.PK?.S).startsWith('REFUSALS#') &&
      values?.[':kind']?.S === 'AUDIT'
      ? `AUDIT ${values[':action'].S}`
      : write.operation;
  });
}

describe('authorization matrix', () => {
  it('has a row for every route in the route table, and no other', () => {
    expect(Object.keys(MATRIX).sort()).toEqual(routes.map((route) => `${route.method} ${route.path}`).sort());
  });

  it('every route × role × own/other organisation × permission code answers exactly as the contract says', async () => {
    const outcomes: Record<string, number> = {};
    const mismatches: string[] = [];
    let cases = 0;
    for (const [key, rule] of Object.entries(MATRIX)) {
      for (const role of ROLES) {
        for (const org of ORGS) {
          for (const codes of CODES) {
            cases++;
            const request = await prepare(key);
            proxy.takeWrites();
            const response = await service.request(request.method, request.path, {
              token: await token(role, org, codes),
              body: request.body,
            });
            const writes = proxy.takeWrites();
            const expected = rule.may(role, org, codes) ? rule.status : 403;
            count(outcomes, String(response.status));
            const label = `${key} as ${role} (${org} organisation, codes ${codes})`;
            if (response.status !== expected)
              mismatches.push(`${label}: ${response.status}, expected ${expected}`);
            if (expected === 403) {
              const refused = key.startsWith('GET /FHIR/')
                ? isOutcome(response.body, 'forbidden', 'ACCESS_DENIED')
                : response.body?.error?.code === 'FORBIDDEN';
              if (!refused) mismatches.push(`${label}: body ${response.text}`);
              const written = refusalWrites(writes);
              // A refusal on a valid NHS number is audited, always; any other refusal writes nothing.
              const nhsNumber = request.path.match(/\d{10}/)?.[0];
              const due = nhsNumber && isValidNhsNumber(nhsNumber) ? ['AUDIT ACCESS_DENIED'] : [];
              if (JSON.stringify(written) !== JSON.stringify(due)) {
                mismatches.push(
                  `${label}: a refusal wrote [${written.join(', ')}], expected [${due.join(', ')}]`,
                );
              }
            }
          }
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(cases).toBe(routes.length * ROLES.length * ORGS.length * CODES.length);
    record('authorization-matrix', {
      guarantee: 'Authorization matrix',
      test: 'every route × role × own/other organisation × permission code (none, B0107, B0170, both): exact status',
      inputs: cases,
      faultsInjected: 0,
      outcomes: Object.fromEntries(Object.entries(outcomes).map(([status, n]) => [`answered ${status}`, n])),
    });
  }, 120_000);
});

describe('token attacks', () => {
  it('missing, expired, not yet valid, wrong issuer or audience, alg none, tampered, wrong key and more: all 401, nothing written', async () => {
    const claims = {
      sub: 'u1',
      name: 'Dr Ada Lovelace',
      org: 'RXX01',
      role: 'clinician',
      activities: ['B0107'],
    };
    const now = Math.floor(Date.now() / 1000);
    const valid = await tokenFor(claims);
    const [header, payload, signature] = valid.split('.') as [string, string, string];
    const LOCAL_ISSUER = `${process.env.LOCAL_IDENTITY_ORIGIN}/cis2`;
    const LOCAL_AUDIENCE = 'child-protection-sharing';
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const { privateKey: otherKey } = await generateKeyPair('ES256');
    type SigningKey = Parameters<SignJWT['sign']>[0];
    const sign = (extra: object, key: SigningKey, alg = 'ES256') =>
      new SignJWT({
        name: claims.name,
        org: claims.org,
        role: claims.role,
        activities: claims.activities,
        ...extra,
      })
        .setProtectedHeader({ alg })
        .sign(key);
    const { keys } = (await (await fetch(`${LOCAL_ISSUER}/jwks`)).json()) as { keys: object[] };
    const publicJwk = keys[0];
    const attacks: Record<string, string | undefined> = {
      missing: undefined,
      'empty bearer': '',
      'not a JWT': 'not.a.jwt',
      expired: await forgedTokenFor(claims, { issuedAt: now - 7200, ttlSeconds: 3600 }),
      'not yet valid (nbf)': await forgedTokenFor(claims, { notBefore: now + 3600 }),
      'issued in the future': await forgedTokenFor(claims, { issuedAt: now + 3600 }),
      'older than 12 hours though unexpired': await forgedTokenFor(claims, {
        issuedAt: now - 13 * 3600,
        ttlSeconds: 14 * 3600,
      }),
      'wrong issuer': await forgedTokenFor(claims, { issuer: 'https://evil.example' }),
      'wrong audience': await forgedTokenFor(claims, { audience: 'another-service' }),
      'alg none': `${encode({ alg: 'none', typ: 'JWT' })}.${payload}.`,
      'tampered payload (role)': `${header}.${encode({ ...decoded, role: 'auditor' })}.${signature}`,
      'tampered payload (org)': `${header}.${encode({ ...decoded, org: 'RZZ99' })}.${signature}`,
      'wrong key': await sign(
        { sub: 'u1', iss: LOCAL_ISSUER, aud: LOCAL_AUDIENCE, iat: now, exp: now + 600 },
        otherKey,
      ),
      'HS256 keyed with the public key': await sign(
        { sub: 'u1', iss: LOCAL_ISSUER, aud: LOCAL_AUDIENCE, iat: now, exp: now + 600 },
        new TextEncoder().encode(JSON.stringify(publicJwk)),
        'HS256',
      ),
      'no expiry': await forgedToken('cis2', {
        ...claims,
        sub: 'u1',
        aud: LOCAL_AUDIENCE,
        iat: now,
        acr: 'AAL3_ANY',
      }),
      'unknown role': await forgedTokenFor({ ...claims, role: 'superuser' }),
      'embedded jwk header': await new SignJWT({
        ...claims,
        iss: LOCAL_ISSUER,
        aud: LOCAL_AUDIENCE,
        iat: now,
        exp: now + 600,
      })
        .setProtectedHeader({
          alg: 'ES256',
          jwk: await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey),
        })
        .sign(otherKey),
    };
    const nhsNumber = fresh();
    await publishPlan(service, COUNCIL, nhsNumber, 'CPP', { startDate: '2026-01-01' });
    const failures: string[] = [];
    let tried = 0;
    let publicAnswers = 0;
    for (const route of routes) {
      const templated = route.path
        .replace('{councilCode}', COUNCIL)
        .replace('{nhsNumber}', nhsNumber)
        .replace('{oldNhsNumber}', nhsNumber)
        .replace('{newNhsNumber}', fresh())
        .replace('{planType}', 'CPP');
      const path =
        route.fhir && !route.public
          ? `${templated}${fhirSearchPath('', nhsNumber).slice('/FHIR/R4/'.length)}`
          : templated;
      for (const [name, attack] of Object.entries(attacks)) {
        tried++;
        proxy.takeWrites();
        const response = await service.request(route.method, path, {
          headers: attack === undefined ? {} : { Authorization: `Bearer ${attack}` },
          body: route.method === 'GET' || route.method === 'DELETE' ? undefined : { startDate: '2026-01-01' },
        });
        const writes = proxy.takeWrites();
        // The CapabilityStatement needs no token: whatever the header holds, 200 and nothing written.
        const answered = route.public
          ? response.status === 200 && response.body?.resourceType === 'CapabilityStatement'
          : route.fhir
            ? response.status === 401 && isOutcome(response.body, 'login', 'ACCESS_DENIED')
            : response.status === 401 &&
              ErrorBodySchema.safeParse(response.body).success &&
              response.body.error.code === 'UNAUTHENTICATED';
        if (route.public && answered) publicAnswers++;
        if (!answered) {
          failures.push(
            `${route.method} ${route.path} with ${name}: ${response.status} ${response.text.slice(0, 100)}`,
          );
        }
        if (writes.length > 0)
          failures.push(
            `${route.method} ${route.path} with ${name}: wrote ${writes.map((w) => w.operation)}`,
          );
      }
      // Basic instead of Bearer, with a valid token.
      const basic = await service.request(route.method, path, {
        headers: { Authorization: `Basic ${valid}` },
      });
      if (basic.status !== (route.public ? 200 : 401))
        failures.push(`${route.method} ${route.path} with Basic: ${basic.status}`);
      tried++;
    }
    expect(failures).toEqual([]);
    expect(publicAnswers).toBe(routes.filter((route) => route.public).length * Object.keys(attacks).length);
    record('token-attacks', {
      guarantee: 'Authorization matrix',
      test: 'token attacks on every route (missing, expired, nbf, future iat, too old, wrong iss/aud, alg none, tampered, wrong key, HS256 confusion, no exp, unknown role, embedded jwk, Basic): all 401',
      inputs: tried,
      faultsInjected: tried,
      outcomes: {
        'answered 401 UNAUTHENTICATED (FHIR: OperationOutcome login), nothing written':
          tried - publicAnswers - routes.filter((route) => route.public).length,
        'public FHIR metadata answered 200, nothing written':
          publicAnswers + routes.filter((route) => route.public).length,
      },
    });
  }, 60_000);
});

describe('enumeration defence: lookup rate limits', () => {
  it('the local defaults are the deployed stack’s and the contract’s: 120 per user, 1,200 per organisation per minute', () => {
    const deployed = LimitsSchema.parse({});
    const local = readLocalConfig({});
    expect({
      deployed: [deployed.lookupsPerMinutePerUser, deployed.lookupsPerMinutePerOrganisation],
      local: [local.LOOKUP_RATE_PER_USER, local.LOOKUP_RATE_PER_ORG],
      limiter: [DEFAULT_RATE_LIMITS.perUserPerMinute, DEFAULT_RATE_LIMITS.perOrganisationPerMinute],
    }).toEqual({ deployed: [120, 1200], local: [120, 1200], limiter: [120, 1200] });
    // The lookup, its presence check and the FHIR searches (which run the lookup) share these limits.
    expect(routes.filter((route) => route.rateLimited).map((route) => route.entry)).toEqual([
      'lookup',
      'lookup',
      'fhir-search',
      'fhir-search',
    ]);
  });

  it('a burst of lookups by one user, at the default limits, sees 429 THROTTLED with Retry-After, and the refused lookups leave no trace', async () => {
    await service.close();
    const limited = await startReliabilityService({ rateLimits: 'default' });
    try {
      const outcomes: Record<string, number> = {};
      const limit = DEFAULT_RATE_LIMITS.perUserPerMinute;
      const burst = async (sub: string) => {
        const userToken = await tokenFor({
          sub,
          name: 'Dr Enumerator',
          org: 'RQQ01',
          role: 'clinician',
          activities: ['B0170'],
        });
        const window = Math.floor(Date.now() / 60_000);
        const responses = await Promise.all(
          Array.from({ length: limit + 10 }, (_, i) =>
            limited.request('GET', `/v1/children/${testNhsNumber(95_000 + i)}`, { token: userToken }),
          ),
        );
        return { sub, responses, sameWindow: window === Math.floor(Date.now() / 60_000) };
      };
      let attempt = await burst('enumerator-1');
      if (!attempt.sameWindow) attempt = await burst('enumerator-2'); // the minute turned mid-burst: once more
      expect(attempt.sameWindow).toBe(true); // a burst takes seconds: the minute cannot turn in both
      const statuses = attempt.responses.map((r) => r.status);
      for (const status of statuses) count(outcomes, `one user: answered ${status}`);
      expect(statuses.filter((s) => s === 200)).toHaveLength(limit);
      const throttled = attempt.responses.filter((r) => r.status === 429);
      expect(throttled).toHaveLength(10);
      for (const response of throttled) {
        expect(response.body.error.code).toBe('THROTTLED');
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
      // Only the lookups answered were audited: a refused lookup reads and writes nothing. (Counted for
      // the user of the burst that stayed in one window: a first burst that straddled the minute was
      // answered in full, from two windows' allowances.)
      const audited = (await limited.scanTable()).filter(
        (item) => item.kind === 'AUDIT' && (item.actor as { sub?: string }).sub === attempt.sub,
      );
      expect(audited.length).toBe(limit);
      record('rate-limit-user', {
        guarantee: 'Enumeration defence',
        test: `burst of ${limit + 10} lookups by one user at the default limits (${limit}/min per user): 429s with Retry-After, nothing written for them`,
        inputs: statuses.length,
        faultsInjected: 0,
        outcomes,
      });
    } finally {
      await limited.close();
    }
  }, 60_000);

  it('a burst from many users of one organisation is stopped at the organisation’s limit; other organisations are unaffected', async () => {
    const limits = { perUserPerMinute: 5, perOrganisationPerMinute: 30 };
    const limited = await startReliabilityService({ rateLimits: limits });
    try {
      const outcomes: Record<string, number> = {};
      const lookup = async (org: string, sub: string, i: number) =>
        limited.request('GET', `/v1/children/${testNhsNumber(96_000 + i)}`, {
          token: await tokenFor({ sub, name: 'Dr Many', org, role: 'clinician', activities: ['B0107'] }),
        });
      const window = Math.floor(Date.now() / 60_000);
      const responses = await Promise.all(
        Array.from({ length: 40 }, (_, i) => lookup('RMM01', `user-${i}`, i)),
      );
      const elsewhere = await lookup('RNN02', 'someone', 99);
      const statuses = responses.map((r) => r.status);
      for (const status of statuses) count(outcomes, `40 users of one organisation: answered ${status}`);
      if (window === Math.floor(Date.now() / 60_000)) {
        expect(statuses.filter((s) => s === 200)).toHaveLength(limits.perOrganisationPerMinute);
      }
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
      expect(elsewhere.status).toBe(200);
      record('rate-limit-organisation', {
        guarantee: 'Enumeration defence',
        test: 'burst of 40 lookups by 40 users of one organisation (limit 30/min configured): stopped at the organisation limit; other organisations unaffected',
        inputs: statuses.length + 1,
        faultsInjected: 0,
        outcomes: { ...outcomes, 'another organisation: answered 200': 1 },
      });
    } finally {
      await limited.close();
    }
  }, 60_000);
});
