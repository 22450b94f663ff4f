import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ErrorBodySchema } from '../../functions/core/response-schemas';
import { forgedTokenFor } from '../../testkit';
import {
  type ApiResult,
  publishPlan,
  type RequestOptions,
  startTestService,
  testNhsNumber,
  tokens,
  useTestService,
} from './harness';

const child = testNhsNumber(2000);
const service = useTestService(['E09000001']);
beforeAll(async () => {
  await publishPlan(service, 'E09000001', child, 'CPP', { startDate: '2026-01-01' });
});

function expectError(response: ApiResult, status: number, code: string): void {
  expect({ status: response.status, code: response.body?.error?.code }).toEqual({ status, code });
  expect(ErrorBodySchema.safeParse(response.body).success).toBe(true);
  expect(response.body.error.message.length).toBeGreaterThan(10);
  expect(response.text).not.toMatch(/\n\s+at |\.ts:\d+|node_modules/);
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('x-request-id')).toEqual(expect.any(String));
}

/** Sends a request that must fail, and checks the table is exactly as it was. */
async function refused(
  method: string,
  path: string,
  options: RequestOptions,
  status: number,
  code: string,
  /** The refusal events the contract names (PLAN_REFUSED), as [PK, action]: the only items it may add. */
  audited: [string, string][] = [],
) {
  const before = await service.scanTable();
  const response = await service.request(method, path, options);
  expectError(response, status, code);
  const after = await service.scanTable();
  const added = after.filter((item) => !before.some((old) => old.PK === item.PK && old.SK === item.SK));
  expect(added.map((item) => [item.PK, item.action])).toEqual(audited);
  expect(after.filter((item) => !added.includes(item))).toEqual(before);
  return response;
}

const planPath = (nhsNumber = child, planType = 'CPP', council = 'E09000001') =>
  `/v1/councils/${council}/plans/${nhsNumber}/${planType}`;

describe('every documented error, with nothing written', () => {
  it('INVALID_NHS_NUMBER: wrong length, letters or check digit', async () => {
    const clinician = await tokens.clinician(['B0107']);
    for (const bad of ['999000001', '9990000017', '99900000AB', '99900000181']) {
      await refused('GET', `/v1/children/${bad}`, { token: clinician }, 400, 'INVALID_NHS_NUMBER');
    }
    const council = await tokens.council('E09000001');
    await refused(
      'PUT',
      planPath('9990000017'),
      { token: council, body: { startDate: '2026-01-01' } },
      400,
      'INVALID_NHS_NUMBER',
    );
  });

  it('VALIDATION_FAILED: unknown plan type, bad dates, end before start, future start, malformed JSON, unknown fields', async () => {
    const token = await tokens.council('E09000001');
    const cases: [string, RequestOptions, RegExp][] = [
      [
        planPath(child, 'XYZ'),
        { token, body: { startDate: '2026-01-01' } },
        /planType must be one of CPP, LAC, UCPP/,
      ],
      [planPath(), { token, body: { startDate: '2026-02-30' } }, /startDate must be a date \(YYYY-MM-DD\)/],
      [planPath(), { token, body: { startDate: '01/02/2026' } }, /startDate must be a date/],
      [
        planPath(),
        { token, body: { startDate: '2026-03-01', endDate: '2026-02-01' } },
        /endDate must not be before startDate/,
      ],
      [planPath(), { token, body: { startDate: '2999-01-01' } }, /startDate must not be in the future/],
      [planPath(), { token, rawBody: '{"startDate": "2026-01-01"' }, /not valid JSON/],
      [planPath(), { token, body: { startDate: '2026-01-01', name: 'Jane' } }, /unknown field "name"/],
      [planPath(), { token, body: {} }, /startDate is required/],
      [planPath(), { token, body: ['2026-01-01'] }, /.+/],
      [planPath(), { token }, /needs a body \(application\/json\)/],
      [
        '/v1/councils/E09000001',
        { token, body: { name: 'X', emergencyDutyPhone: 'call us' } },
        /emergencyDutyPhone must be 3 to 30/,
      ],
      [
        '/v1/councils/E09000001',
        { token, body: { name: 'X', emergencyDutyPhone: '+-()' } },
        /at least 3 digits/,
      ],
    ];
    for (const [path, options, message] of cases) {
      const method = 'PUT';
      const response = await refused(method, path, options, 400, 'VALIDATION_FAILED');
      expect(response.body.error.message).toMatch(message);
    }
    const auditor = await tokens.auditor();
    for (const query of [
      'limit=0',
      'limit=201',
      'limit=abc',
      'cursor=bogus',
      'colour=red',
      'limit=5&limit=6',
    ]) {
      await refused(
        'GET',
        `/v1/audit/children/${child}?${query}`,
        { token: auditor },
        400,
        'VALIDATION_FAILED',
      );
    }
  });

  it('UNAUTHENTICATED: no token, bad signature, expired, wrong issuer or audience, malformed claims', async () => {
    const path = `/v1/children/${child}`;
    const claims = { sub: 'u1', name: 'Dr A', org: 'RXX01', role: 'clinician', activities: ['B0107'] };
    const valid = await tokens.clinician(['B0107'], { name: 'Dr A' });
    const [header, payload, signature] = valid.split('.');
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload as string, 'base64url').toString()), org: 'RZZ99' })).toString('base64url')}.${signature}`;
    const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
    const tokensToRefuse = [
      undefined,
      'not-a-jwt',
      tampered,
      unsigned,
      await forgedTokenFor(claims, { issuedAt: Math.floor(Date.now() / 1000) - 7200, ttlSeconds: 3600 }),
      await forgedTokenFor(claims, { issuer: 'https://evil.example' }),
      await forgedTokenFor(claims, { audience: 'another-service' }),
      await forgedTokenFor({ ...claims, role: 'superuser' }),
      await forgedTokenFor(claims, { notBefore: Math.floor(Date.now() / 1000) + 3600 }),
    ];
    for (const token of tokensToRefuse) await refused('GET', path, { token }, 401, 'UNAUTHENTICATED');
    await refused('GET', path, { headers: { Authorization: `Basic ${valid}` } }, 401, 'UNAUTHENTICATED');
  });

  it('FORBIDDEN: a valid token whose role, permission code or organisation does not allow the call', async () => {
    const otherCouncil = await tokens.council('E08000025');
    await refused(
      'PUT',
      '/v1/councils/E09000001',
      { token: otherCouncil, body: { name: 'X', emergencyDutyPhone: '999' } },
      403,
      'FORBIDDEN',
    );
    const noCodes = await tokens.clinician([]);
    const wrongCode = await tokens.clinician(['B0999']);
    // Refused lookups on a valid NHS number are audited, and that is all that is written: the same
    // caller's refusals within a minute are one event whose count grows.
    const refusalsOf = (items: Record<string, unknown>[]) =>
      items.filter((item) => item.PK === `REFUSALS#${child}` && item.action === 'ACCESS_DENIED');
    const counted = (items: Record<string, unknown>[]) =>
      refusalsOf(items).reduce((sum, item) => sum + Number(item.count), 0);
    for (const token of [noCodes, wrongCode]) {
      const before = await service.scanTable();
      const response = await service.request('GET', `/v1/children/${child}`, { token });
      expectError(response, 403, 'FORBIDDEN');
      const after = await service.scanTable();
      expect(counted(after)).toBe(counted(before) + 1);
      expect(refusalsOf(after).length - refusalsOf(before).length).toBeLessThanOrEqual(1);
      const others = (items: Record<string, unknown>[]) =>
        items.filter((item) => item.PK !== `REFUSALS#${child}`);
      expect(others(after)).toEqual(others(before));
    }
  });

  it('NOT_FOUND: unknown route (checked before authentication), or no plan to delete', async () => {
    await refused('GET', '/v1/unknown', {}, 404, 'NOT_FOUND');
    await refused('GET', `/v1/children/${child}/extra`, {}, 404, 'NOT_FOUND');
    await refused('GET', '/', {}, 404, 'NOT_FOUND');
    await refused('GET', '//', {}, 404, 'NOT_FOUND');
    const token = await tokens.council('E09000001');
    await refused('DELETE', planPath(child, 'LAC'), { token }, 404, 'NOT_FOUND');
  });

  it('METHOD_NOT_ALLOWED: known path, wrong method, with an Allow header (checked before authentication)', async () => {
    const response = await refused('POST', `/v1/children/${child}`, {}, 405, 'METHOD_NOT_ALLOWED');
    expect(response.headers.get('allow')).toBe('GET');
    const plan = await refused('POST', planPath(), {}, 405, 'METHOD_NOT_ALLOWED');
    expect(plan.headers.get('allow')).toBe('PUT, DELETE, GET');
  });

  it('CONFLICT: a stale If-Match, or a council that is not registered', async () => {
    const token = await tokens.council('E09000001');
    await refused(
      'PUT',
      planPath(),
      { token, body: { startDate: '2026-01-02' }, headers: { 'If-Match': '"999"' } },
      409,
      'CONFLICT',
    );
    await refused('DELETE', planPath(), { token, headers: { 'If-Match': '"999"' } }, 409, 'CONFLICT');
    const unregistered = await tokens.council('E06000001');
    const response = await refused(
      'PUT',
      planPath(child, 'CPP', 'E06000001'),
      { token: unregistered, body: { startDate: '2026-01-01' } },
      409,
      'CONFLICT',
    );
    expect(response.body.error.message).toMatch(/not registered.*PUT \/v1\/councils\/E06000001/);
  });

  it('CONFLICT naming the replacement of a superseded number; SENSITIVE_RECORD for a flagged one', async () => {
    const demographics = await tokens.demographics();
    const [oldNumber, newNumber, flagged] = [testNhsNumber(2200), testNhsNumber(2210), testNhsNumber(2220)];
    await service.request('POST', `/v1/nhs-numbers/${oldNumber}/superseded-by/${newNumber}`, {
      token: demographics,
    });
    await service.request('PUT', `/v1/nhs-numbers/${flagged}/sensitivity`, {
      token: demographics,
      body: { sensitive: true },
    });
    const token = await tokens.council('E09000001');
    const superseded = await refused(
      'PUT',
      planPath(oldNumber),
      { token, body: { startDate: '2026-01-01' } },
      409,
      'CONFLICT',
      [[`AUDIT#${oldNumber}`, 'PLAN_REFUSED']],
    );
    expect(superseded.body.error.message).toContain(newNumber);
    await refused(
      'PUT',
      planPath(flagged),
      { token, body: { startDate: '2026-01-01' } },
      409,
      'SENSITIVE_RECORD',
      [[`AUDIT#${flagged}`, 'PLAN_REFUSED']],
    );
  });

  it('SNAPSHOT_GUARD: a snapshot that would end more than 10% of open plans', async () => {
    const token = await tokens.council('E09000001');
    const response = await refused(
      'POST',
      '/v1/councils/E09000001/uploads?mode=snapshot',
      { token, rawBody: 'nhsNumber,planType,startDate,endDate\n', contentType: 'text/csv' },
      409,
      'SNAPSHOT_GUARD',
    );
    expect(response.body.error.message).toMatch(/force=true/);
  });

  it('PAYLOAD_TOO_LARGE: a body over the limit', async () => {
    const token = await tokens.council('E09000001');
    const big = JSON.stringify({ startDate: '2026-01-01', padding: 'x'.repeat(20_000) });
    await refused('PUT', planPath(), { token, rawBody: big }, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('UNSUPPORTED_MEDIA_TYPE: a body that is not JSON', async () => {
    const token = await tokens.council('E09000001');
    await refused(
      'PUT',
      planPath(),
      { token, rawBody: 'startDate=2026-01-01', contentType: 'text/plain' },
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    await refused(
      'PUT',
      planPath(),
      { token, rawBody: '<plan/>', contentType: 'application/xml' },
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  });

  it('THROTTLED: lookups over the per-user or per-organisation rate, with Retry-After; checked before role', async () => {
    const limited = await startTestService({
      rateLimits: { perUserPerMinute: 3, perOrganisationPerMinute: 5 },
    });
    try {
      const path = `/v1/children/${testNhsNumber(2100)}`;
      const token = await tokens.clinician(['B0107'], { sub: 'busy-user' });
      for (let i = 0; i < 3; i++) expect((await limited.request('GET', path, { token })).status).toBe(200);
      const before = await limited.scanTable();
      const response = await limited.request('GET', path, { token });
      expectError(response, 429, 'THROTTLED');
      expect(await limited.scanTable()).toEqual(before);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(response.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      // A colleague has their own allowance, until the organisation's is spent (5 per minute here; the
      // refused request above counts against neither limit).
      const colleague = await tokens.clinician(['B0107'], { sub: 'colleague' });
      for (let i = 0; i < 2; i++)
        expect((await limited.request('GET', path, { token: colleague })).status).toBe(200);
      expectError(await limited.request('GET', path, { token: colleague }), 429, 'THROTTLED');
      // Rate comes before role: an over-limit caller without the right role still sees 429.
      expectError(
        await limited.request('GET', path, { token: await tokens.clinician([], { sub: 'busy-user' }) }),
        429,
        'THROTTLED',
      );
      // Another organisation is unaffected.
      const elsewhere = await tokens.clinician(['B0107'], { org: 'RZZ03' });
      expect((await limited.request('GET', path, { token: elsewhere })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('THROTTLED on any route past the per-caller limit, before role and input checks, writing nothing', async () => {
    const limited = await startTestService({
      rateLimits: { perCallerPerMinute: 3, perUserPerMinute: 100, perOrganisationPerMinute: 100 },
    });
    try {
      const token = await tokens.council('E09000001');
      const body = { name: 'London Borough of Example', emergencyDutyPhone: '020 7946 0999' };
      for (let i = 0; i < 3; i++)
        expect((await limited.request('PUT', '/v1/councils/E09000001', { token, body })).status).toBe(200);
      const before = await limited.scanTable();
      const response = await limited.request('PUT', '/v1/councils/E09000001', { token, body });
      expectError(response, 429, 'THROTTLED');
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // Any route, and before the role check: an auditor's route asked for by this council is 429 too.
      expectError(await limited.request('GET', `/v1/audit/councils/E09000001`, { token }), 429, 'THROTTLED');
      expect(await limited.scanTable()).toEqual(before);
      // Another caller of the same council has an allowance of its own.
      const colleague = await tokens.council('E09000001', { sub: 'second-system' });
      expect(
        (await limited.request('PUT', '/v1/councils/E09000001', { token: colleague, body })).status,
      ).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('checks in the documented order: route, authentication, role, then input', async () => {
    await refused('PATCH', `/v1/children/not-a-number`, {}, 405, 'METHOD_NOT_ALLOWED');
    await refused('GET', `/v1/children/not-a-number`, {}, 401, 'UNAUTHENTICATED');
    const council = await tokens.council('E09000001');
    await refused('GET', `/v1/children/not-a-number`, { token: council }, 403, 'FORBIDDEN');
    const other = await tokens.council('E08000025');
    await refused(
      'PUT',
      planPath('123', 'XYZ'),
      { token: other, rawBody: 'nonsense', contentType: 'text/plain' },
      403,
      'FORBIDDEN',
    );
  });
});

describe('INTERNAL', () => {
  it('answers a fault with 500 INTERNAL and no stack trace', async () => {
    const broken = await startTestService();
    try {
      await new DynamoDBClient({}).send(new DeleteTableCommand({ TableName: broken.tableName }));
      const response = await broken.request('GET', `/v1/children/${child}`, {
        token: await tokens.clinician(['B0107']),
      });
      expectError(response, 500, 'INTERNAL');
      expect(response.text).not.toMatch(/ResourceNotFound|DynamoDB|table/i);
    } finally {
      await broken.close();
    }
  });
});
