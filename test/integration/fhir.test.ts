/**
 * The FHIR R4 interface through the real handlers and the local runtime, against the emulators: every
 * resource it returns is checked against the FHIR R4 base specification's JSON schema.
 */
import { clock } from '../../functions/core/clock';
import { fhirProblems } from '../fhir-validator';
import {
  type ApiResult,
  lookupChild,
  publishPlan,
  startTestService,
  type TestService,
  testNhsNumber,
  tokens,
  useTestService,
} from './harness';

const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
const SPINE_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/England-SpineErrorOrWarningCode';
const SNOMED = 'http://snomed.info/sct';
const CITY = { name: 'Example City Council', officeHoursPhone: null, emergencyDutyPhone: '0121 496 0999' };

const service = useTestService(['E09000001', ['E08000025', CITY]]);
const realNow = clock.now;
afterEach(() => {
  clock.now = realNow;
});

/** The answer is FHIR: its media type, valid against the R4 schema, with the REST API's headers. */
function expectFhir(response: ApiResult, status: number, resourceType: string) {
  expect({ status: response.status, resourceType: response.body?.resourceType }).toEqual({
    status,
    resourceType,
  });
  expect(response.headers.get('content-type')).toBe('application/fhir+json');
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('x-request-id')).toBeTruthy();
  expect(fhirProblems(response.body)).toEqual([]);
}

function expectOutcome(response: ApiResult, status: number, issueCode: string, spineCode: string) {
  expectFhir(response, status, 'OperationOutcome');
  expect(response.body.issue[0]).toMatchObject({
    severity: 'error',
    code: issueCode,
    details: { coding: [{ system: SPINE_SYSTEM, code: spineCode }] },
  });
  expect(response.body.issue[0].diagnostics).toEqual(expect.any(String));
}

const identifier = (nhsNumber: string) => encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${nhsNumber}`);

async function search(
  resource: 'CareTeam' | 'AuditEvent',
  nhsNumber: string,
  options: { activities?: string[]; header?: string; extra?: object; on?: TestService } = {},
) {
  const headers: Record<string, string> = {};
  if (options.header !== undefined) headers.IsUnscheduledAccessEvent = options.header;
  return (options.on ?? service).request(
    'GET',
    `/FHIR/R4/${resource}?patient:identifier=${identifier(nhsNumber)}`,
    {
      token: await tokens.clinician(options.activities ?? ['B0107'], options.extra),
      headers,
    },
  );
}

const auditActions = async (nhsNumber: string) =>
  (
    await service.request('GET', `/v1/audit/children/${nhsNumber}`, { token: await tokens.auditor() })
  ).body.events.map(
    (event: { action: string; actor: { sub: string } }) => `${event.action} ${event.actor.sub}`,
  );

describe('metadata', () => {
  it('answers a CapabilityStatement (FHIR 4.0.1, JSON, the two searches) without a token', async () => {
    const response = await service.request('GET', '/FHIR/R4/metadata', {
      headers: { 'X-Correlation-ID': 'meta-1' },
    });
    expectFhir(response, 200, 'CapabilityStatement');
    expect(response.headers.get('x-correlation-id')).toBe('meta-1');
    expect(response.body).toMatchObject({ fhirVersion: '4.0.1', kind: 'instance', status: 'active' });
    expect(response.body.format).toContain('application/fhir+json');
    expect(
      response.body.rest[0].resource.map((r: any) => [r.type, r.interaction.map((i: any) => i.code)]),
    ).toEqual([
      ['CareTeam', ['search-type']],
      ['AuditEvent', ['search-type']],
    ]);
  });
});

describe('CareTeam search', () => {
  it('answers one CareTeam per visible plan with the SNOMED category, council, identifiers, telecoms and dates', async () => {
    const child = testNhsNumber(7001);
    const mother = testNhsNumber(7002);
    await publishPlan(service, 'E09000001', child, 'CPP', { startDate: '2026-03-01' });
    await publishPlan(service, 'E08000025', child, 'LAC', { startDate: '2026-05-10', endDate: '2026-06-30' });
    await publishPlan(service, 'E09000001', mother, 'UCPP', { startDate: '2026-09-01' });

    const response = await service.request(
      'GET',
      `/FHIR/R4/CareTeam?patient:identifier=${identifier(child)}`,
      {
        token: await tokens.clinician(['B0107']),
        headers: { 'X-Correlation-ID': 'corr-123' },
      },
    );
    expectFhir(response, 200, 'Bundle');
    expect(response.headers.get('x-correlation-id')).toBe('corr-123');
    expect(response.body).toMatchObject({ type: 'searchset', total: 2 });
    const teams = response.body.entry.map((entry: any) => {
      expect(entry.search).toEqual({ mode: 'match' });
      expect(entry.resource.resourceType).toBe('CareTeam');
      return entry.resource;
    });
    // Newest start first, as the lookup orders plans.
    expect(teams.map((team: any) => team.category[0].coding[0])).toEqual([
      { system: SNOMED, code: '764841000000100', display: 'Looked after child' },
      { system: SNOMED, code: '342191000000101', display: 'Subject to child protection plan' },
    ]);
    const [lac, cpp] = teams;
    expect(cpp).toMatchObject({
      name: 'London Borough of Example',
      subject: { identifier: { system: NHS_NUMBER_SYSTEM, value: child } },
      managingOrganization: [{ identifier: { system: ODS_SYSTEM, value: 'E09000001' } }],
      telecom: [
        { system: 'phone', use: 'work', value: '020 7946 0000' },
        { system: 'phone', use: 'mobile', value: '020 7946 0999' },
      ],
      period: { start: '2026-03-01' },
    });
    expect(cpp.period.end).toBeUndefined();
    // No office-hours number: only the emergency duty team's.
    expect(lac).toMatchObject({
      name: 'Example City Council',
      managingOrganization: [{ identifier: { system: ODS_SYSTEM, value: 'E08000025' } }],
      telecom: [{ system: 'phone', use: 'mobile', value: '0121 496 0999' }],
      period: { start: '2026-05-10', end: '2026-06-30' },
    });

    const unborn = await search('CareTeam', mother);
    expectFhir(unborn, 200, 'Bundle');
    expect(unborn.body.entry[0].resource.category[0].coding[0]).toEqual({
      system: SNOMED,
      code: '818901000000100',
      display: 'Unborn child subject to child protection plan',
    });
  });

  it('answers total 0 without entries for a child with no visible plan', async () => {
    const response = await search('CareTeam', testNhsNumber(7003));
    expectFhir(response, 200, 'Bundle');
    expect(response.body).toEqual({ resourceType: 'Bundle', type: 'searchset', total: 0 });
  });

  it('answers a superseded number for its replacement', async () => {
    const [oldNumber, newNumber] = [testNhsNumber(7004), testNhsNumber(7005)];
    await publishPlan(service, 'E09000001', oldNumber, 'CPP', { startDate: '2026-02-01' });
    const moved = await service.request('POST', `/v1/nhs-numbers/${oldNumber}/superseded-by/${newNumber}`, {
      token: await tokens.demographics(),
    });
    expect(moved.status).toBe(200);
    const response = await search('CareTeam', oldNumber, { header: 'false' });
    expectFhir(response, 200, 'Bundle');
    expect(response.body.entry[0].resource.subject.identifier).toEqual({
      system: NHS_NUMBER_SYSTEM,
      value: newNumber,
    });
  });

  it('notifies the council once per search when the header is absent or true, never when false', async () => {
    const child = testNhsNumber(7010);
    await publishPlan(service, 'E09000001', child, 'CPP', { startDate: '2026-03-01' });
    await publishPlan(service, 'E08000025', child, 'LAC', { startDate: '2026-04-01' });
    await service.takeMessages('E09000001');
    await service.takeMessages('E08000025');

    for (const header of [undefined, 'true']) {
      const response = await search('CareTeam', child, { header, extra: { sub: `fhir-${header}` } });
      expectFhir(response, 200, 'Bundle');
      const [example, city] = [
        await service.takeMessages('E09000001'),
        await service.takeMessages('E08000025'),
      ];
      expect(example.map((m) => [m.type, m.planTypes, m.accessedBy.userId])).toEqual([
        ['ChildRecordAccessed', ['CPP'], `fhir-${header}`],
      ]);
      expect(city.map((m) => m.planTypes)).toEqual([['LAC']]);
    }
    // A silent read: with B0107 and header false, and with B0170 alone.
    for (const activities of [['B0107'], ['B0170']]) {
      const response = await search('CareTeam', child, {
        header: 'false',
        activities,
        extra: { sub: 'silent' },
      });
      expectFhir(response, 200, 'Bundle');
      expect(response.body.total).toBe(2);
    }
    expect(await service.takeMessages('E09000001')).toEqual([]);
    expect(await service.takeMessages('E08000025')).toEqual([]);

    // The notifying searches are accesses; the silent reads are audited but are not.
    const lookup = await lookupChild(service, child, ['B0170']);
    expect(lookup.body.previousAccesses.map((access: any) => access.userId)).toEqual([
      'fhir-true',
      'fhir-undefined',
    ]);
    expect(await auditActions(child)).toEqual(
      expect.arrayContaining([
        'LOOKUP_NOTIFYING fhir-undefined',
        'LOOKUP_NOTIFYING fhir-true',
        'LOOKUP_SILENT silent',
      ]),
    );
  });

  it('refuses an unscheduled-care access (header absent or true) to a B0170-only clinician, auditing it', async () => {
    const child = testNhsNumber(7011);
    await publishPlan(service, 'E09000001', child, 'CPP', { startDate: '2026-03-01' });
    for (const header of [undefined, 'true']) {
      const response = await search('CareTeam', child, {
        header,
        activities: ['B0170'],
        extra: { sub: 'b0170' },
      });
      expectOutcome(response, 403, 'forbidden', 'ACCESS_DENIED');
    }
    expect(await auditActions(child)).toContain('ACCESS_DENIED b0170');
    expect(await service.takeMessages('E09000001')).toEqual([]);
  });

  it.each([
    ['an invalid NHS number', `patient:identifier=${identifier('9990000019')}`],
    [
      'a wrong identifier system',
      `patient:identifier=${encodeURIComponent('https://example.org/id|9990000018')}`,
    ],
    ['an identifier without a system', 'patient:identifier=9990000018'],
    ['a missing parameter', ''],
    ['an unknown search parameter', `patient:identifier=${identifier('9990000018')}&status=active`],
    [
      'the parameter twice',
      `patient:identifier=${identifier('9990000018')}&patient:identifier=${identifier('9990000018')}`,
    ],
  ])('answers %s with 400 INVALID_SEARCH_DATA', async (_, query) => {
    for (const resource of ['CareTeam', 'AuditEvent']) {
      const response = await service.request('GET', `/FHIR/R4/${resource}?${query}`, {
        token: await tokens.clinician(['B0107']),
      });
      expectOutcome(response, 400, 'invalid', 'INVALID_SEARCH_DATA');
    }
  });

  it('answers a bad IsUnscheduledAccessEvent header with 400 PRECONDITION_FAILED, notifying nobody', async () => {
    const child = testNhsNumber(7012);
    await publishPlan(service, 'E09000001', child, 'CPP', { startDate: '2026-03-01' });
    for (const header of ['yes', '', '1']) {
      expectOutcome(await search('CareTeam', child, { header }), 400, 'invalid', 'PRECONDITION_FAILED');
    }
    expect(await service.takeMessages('E09000001')).toEqual([]);
  });
});

describe('AuditEvent search', () => {
  it('answers the 25 latest unscheduled-care accesses with PractitionerRoles, silently and audited', async () => {
    const child = testNhsNumber(7020);
    await publishPlan(service, 'E09000001', child, 'CPP', { startDate: '2026-01-01' });
    const base = Date.parse('2026-11-01T00:00:00Z');
    for (let i = 0; i < 27; i++) {
      clock.now = () => new Date(base + i * 60_000);
      const viewer = {
        sub: `u${i}`,
        name: `Dr ${i}`,
        org: 'RYY02',
        roleName: i % 2 === 0 ? 'Staff Nurse' : undefined,
        orgName: 'Example Hospitals NHS Trust',
      };
      // REST lookups and notifying FHIR searches alike are accesses.
      const response =
        i % 2 === 0
          ? await lookupChild(service, child, ['B0107'], viewer)
          : await search('CareTeam', child, { extra: viewer });
      expect(response.status).toBe(200);
    }
    await service.takeMessages('E09000001');
    clock.now = () => new Date(base + 30 * 60_000);

    const response = await search('AuditEvent', child, { extra: { sub: 'reader' } });
    expectFhir(response, 200, 'Bundle');
    expect(response.body).toMatchObject({ type: 'searchset', total: 25 });
    const matches = response.body.entry.filter((entry: any) => entry.search.mode === 'match');
    const included = response.body.entry.filter((entry: any) => entry.search.mode === 'include');
    expect(matches).toHaveLength(25);
    expect(matches.map((entry: any) => entry.resource.recorded)).toEqual(
      Array.from({ length: 25 }, (_, i) => new Date(base + (26 - i) * 60_000).toISOString()),
    );
    const roles = new Map(included.map((entry: any) => [entry.fullUrl, entry.resource]));
    expect(roles.size).toBe(25);
    const roleOf = (entry: any) => roles.get(entry.resource.agent[0].who.reference) as any;
    expect(
      matches.every(
        (entry: any) => entry.resource.resourceType === 'AuditEvent' && entry.resource.agent[0].requestor,
      ),
    ).toBe(true);
    expect(roleOf(matches[0])).toMatchObject({
      resourceType: 'PractitionerRole',
      practitioner: { display: 'Dr 26' },
      code: [{ text: 'Staff Nurse' }],
      organization: {
        display: 'Example Hospitals NHS Trust',
        identifier: { system: ODS_SYSTEM, value: 'RYY02' },
      },
    });
    expect(roleOf(matches[1]).practitioner.display).toBe('Dr 25');
    expect(roleOf(matches[1]).code).toBeUndefined();

    // Silent: no message, not an access itself, and audited as a silent read.
    expect(await service.takeMessages('E09000001')).toEqual([]);
    const after = await lookupChild(service, child, ['B0170']);
    expect(after.body.previousAccesses[0].userId).toBe('u26');
    expect(await auditActions(child)).toContain('LOOKUP_SILENT reader');
  });

  it('answers total 0 for a child with no visible plan', async () => {
    const response = await search('AuditEvent', testNhsNumber(7021), { activities: ['B0170'] });
    expectFhir(response, 200, 'Bundle');
    expect(response.body).toEqual({ resourceType: 'Bundle', type: 'searchset', total: 0 });
  });
});

describe('refusals', () => {
  it.each(['/FHIR/R4/CareTeam', '/FHIR/R4/AuditEvent', '/FHIR/R4/Patient', '/FHIR/R4/CareTeam/abc'])(
    'answers %s without a token with 401 as an OperationOutcome',
    async (path) => {
      expectOutcome(
        await service.request('GET', `${path}?patient:identifier=${identifier('9990000018')}`),
        401,
        'login',
        'ACCESS_DENIED',
      );
    },
  );

  it('answers a refused token with 401 as an OperationOutcome', async () => {
    const response = await service.request(
      'GET',
      `/FHIR/R4/CareTeam?patient:identifier=${identifier('9990000018')}`,
      {
        token: 'not-a-token',
      },
    );
    expectOutcome(response, 401, 'login', 'ACCESS_DENIED');
  });

  it('answers any other FHIR path or method with 404 INVALID_RESOURCE_ID', async () => {
    const token = await tokens.clinician(['B0107']);
    for (const [method, path] of [
      ['GET', '/FHIR/R4/Patient'],
      ['GET', '/FHIR/R4/CareTeam/abc'],
      ['GET', '/FHIR/R4'],
      ['POST', '/FHIR/R4/CareTeam'],
      ['DELETE', '/FHIR/R4/metadata'],
    ] as const) {
      const response = await service.request(method, path, {
        token,
        headers: { 'X-Correlation-ID': 'c-404' },
      });
      expectOutcome(response, 404, 'not-found', 'INVALID_RESOURCE_ID');
      expect(response.headers.get('x-correlation-id')).toBe('c-404');
    }
  });

  it('answers a caller whose role may not search with 403 forbidden', async () => {
    for (const token of [
      await tokens.auditor(),
      await tokens.council('E09000001'),
      await tokens.clinician([]),
    ]) {
      const response = await service.request(
        'GET',
        `/FHIR/R4/AuditEvent?patient:identifier=${identifier('9990000018')}`,
        {
          token,
        },
      );
      expectOutcome(response, 403, 'forbidden', 'ACCESS_DENIED');
    }
  });

  it('answers a search over the lookup rate limit with 429 throttled and Retry-After', async () => {
    const limited = await startTestService({
      rateLimits: { perCallerPerMinute: 1_000, perUserPerMinute: 2, perOrganisationPerMinute: 1_000 },
    });
    try {
      const child = testNhsNumber(7030);
      const statuses: number[] = [];
      let last: ApiResult | undefined;
      for (const resource of ['CareTeam', 'AuditEvent', 'CareTeam'] as const) {
        last = await search(resource, child, { header: 'false', on: limited });
        statuses.push(last.status);
      }
      expect(statuses).toEqual([200, 200, 429]);
      expectOutcome(last as ApiResult, 429, 'throttled', 'TOO_MANY_REQUESTS');
      expect(Number((last as ApiResult).headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });
});
