/** The pure FHIR mapping, search parsing and error table, each resource checked against the R4 schema. */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { LookupResponse, PreviousAccess } from '../../functions/core/schemas';
import { capabilityStatement, NHS_NUMBER_SYSTEM } from '../../functions/fhir/capability-statement';
import { correlationId } from '../../functions/fhir/headers';
import {
  FHIR_ERRORS,
  FhirError,
  fhirErrorResult,
  fromApiError,
  operationOutcome,
  SPINE_ERROR_SYSTEM,
} from '../../functions/fhir/outcome';
import { auditEventBundle, careTeamBundle } from '../../functions/fhir/resources';
import { isUnscheduledAccess, searchedNhsNumber } from '../../functions/fhir/search';
import { ApiError, apiErrors } from '../../functions/http/errors';
import { fhirProblems } from '../fhir-validator';

const council = {
  code: 'E09000001',
  name: 'London Borough of Example',
  officeHoursPhone: '020 7946 0000',
  emergencyDutyPhone: '020 7946 0999',
};

const access = (i: number, extra: Partial<PreviousAccess> = {}): PreviousAccess => ({
  accessedAt: `2026-11-20T02:${String(59 - i).padStart(2, '0')}:00.000Z`,
  userId: `u${i}`,
  userName: `Dr ${i}`,
  roleName: 'Staff Nurse',
  organisation: 'RYY02',
  organisationName: 'Example Hospitals NHS Trust',
  setting: 'emergency-department',
  ...extra,
});

describe('the schema check', () => {
  it('refuses what is not FHIR R4, so that the other tests can trust it', () => {
    const team = careTeamBundle(
      {
        nhsNumber: '9990000018',
        plans: [{ planType: 'CPP', startDate: '2026-03-01', endDate: null, council }],
        previousAccesses: [],
      },
      '2026-11-20',
    );
    expect(fhirProblems(team)).toEqual([]);
    const broken = structuredClone(team) as any;
    broken.entry[0].resource.managingOrganization = broken.entry[0].resource.managingOrganization[0];
    expect(fhirProblems(broken)).not.toEqual([]);
    expect(fhirProblems({ ...capabilityStatement(), fhirVersion: '4.0.2' })).not.toEqual([]);
    expect(
      fhirProblems({ resourceType: 'OperationOutcome', issue: [{ severity: 'bad', code: 'invalid' }] }),
    ).not.toEqual([]);
    expect(fhirProblems({ ...capabilityStatement(), unknownField: true })).not.toEqual([]);
  });
});

describe('CareTeam', () => {
  const lookup: LookupResponse = {
    nhsNumber: '9990000018',
    supersededBy: '9990000026',
    plans: [
      { planType: 'UCPP', startDate: '2026-09-01', endDate: null, council },
      {
        planType: 'LAC',
        startDate: '2025-01-01',
        endDate: '2026-01-31',
        council: { code: 'E08000025', name: 'E08000025', officeHoursPhone: null, emergencyDutyPhone: '' },
      },
    ],
    previousAccesses: [],
  };

  it('answers for the replacement of a superseded number, an ended plan inactive, missing phones left out', () => {
    const bundle = careTeamBundle(lookup, '2026-11-20');
    expect(fhirProblems(bundle)).toEqual([]);
    const [unborn, ended] = (bundle.entry ?? []).map((entry) => entry.resource as any);
    expect(unborn.subject.identifier).toEqual({ system: NHS_NUMBER_SYSTEM, value: '9990000026' });
    expect(unborn.status).toBe('active');
    expect(ended).toMatchObject({ status: 'inactive', period: { start: '2025-01-01', end: '2026-01-31' } });
    expect(ended.telecom).toBeUndefined();
  });

  it('gives each plan a stable id that never spells the NHS number', () => {
    const [first, second] = [careTeamBundle(lookup, '2026-11-20'), careTeamBundle(lookup, '2026-11-21')];
    const ids = (bundle: typeof first) => (bundle.entry ?? []).map((entry) => entry.resource?.id);
    expect(ids(first)).toEqual(ids(second));
    expect(new Set(ids(first)).size).toBe(2);
    for (const id of ids(first)) expect(id).not.toMatch(/999000/);
  });
});

describe('AuditEvent', () => {
  it('includes each viewer once, referred to by every one of their accesses; total counts the accesses', () => {
    const accesses = [
      access(0),
      access(1, { roleName: null, organisationName: null, setting: null }),
      access(2, { userId: 'u0', userName: 'Dr 0' }),
    ];
    // u0 twice in the same role: one PractitionerRole.
    accesses[2] = { ...access(0), accessedAt: accesses[2]?.accessedAt as string };
    const bundle = auditEventBundle({ nhsNumber: '9990000018', plans: [], previousAccesses: accesses });
    expect(fhirProblems(bundle)).toEqual([]);
    expect(bundle.total).toBe(3);
    const included = (bundle.entry ?? []).filter((entry) => entry.search?.mode === 'include');
    expect(included).toHaveLength(2);
    const events = (bundle.entry ?? [])
      .filter((entry) => entry.search?.mode === 'match')
      .map((e) => e.resource as any);
    expect(events[0].agent[0].who.reference).toBe(events[2].agent[0].who.reference);
    expect(included.map((entry) => entry.fullUrl)).toContain(events[1].agent[0].who.reference);
    // Without an organisation name the ODS code names it; without a role name there is no code.
    const bare = included.find((entry) => entry.fullUrl === events[1].agent[0].who.reference)
      ?.resource as any;
    expect(bare.organization.display).toBe('RYY02');
    expect(bare.code).toBeUndefined();
    expect(events[1].source.site).toBeUndefined();
  });
});

describe('searching', () => {
  const token = (value: string) => ({ 'patient:identifier': [value] });

  it('reads the NHS number of patient:identifier in the NHS number system', () => {
    expect(searchedNhsNumber(token(`${NHS_NUMBER_SYSTEM}|9990000018`))).toBe('9990000018');
  });

  it.each([
    ['no parameter', {}],
    ['an unknown parameter', { ...token(`${NHS_NUMBER_SYSTEM}|9990000018`), _count: ['1'] }],
    [
      'the parameter twice',
      { 'patient:identifier': [`${NHS_NUMBER_SYSTEM}|9990000018`, `${NHS_NUMBER_SYSTEM}|9990000018`] },
    ],
    ['no system', token('9990000018')],
    ['another system', token('https://fhir.nhs.uk/Id/nhs-numbers|9990000018')],
    ['a wrong check digit', token(`${NHS_NUMBER_SYSTEM}|9990000019`)],
    ['an empty value', token(`${NHS_NUMBER_SYSTEM}|`)],
  ])('refuses %s with INVALID_SEARCH_DATA', (_, query) => {
    expect(() => searchedNhsNumber(query)).toThrow(expect.objectContaining({ kind: 'INVALID_SEARCH_DATA' }));
  });

  it.each([
    [undefined, true],
    ['true', true],
    ['false', false],
  ])('reads IsUnscheduledAccessEvent %p as %p', (value, expected) => {
    expect(isUnscheduledAccess(value)).toBe(expected);
  });

  it.each(['', 'yes', '0', 'true,false', 'TRUE', 'False'])(
    'refuses IsUnscheduledAccessEvent %p with PRECONDITION_FAILED',
    (value) => {
      expect(() => isUnscheduledAccess(value)).toThrow(
        expect.objectContaining({ kind: 'PRECONDITION_FAILED' }),
      );
    },
  );

  it('echoes a plain correlation id only', () => {
    expect(correlationId('a1b2-c3')).toBe('a1b2-c3');
    expect(correlationId('a\r\nSet-Cookie: x')).toBeUndefined();
    expect(correlationId('x'.repeat(201))).toBeUndefined();
    expect(correlationId(undefined)).toBeUndefined();
  });
});

describe('errors', () => {
  it("answers the contract's status, issue code and Spine code for each kind", () => {
    const table = Object.entries(FHIR_ERRORS).map(([kind, error]) => [
      kind,
      error.status,
      error.issue,
      error.code,
    ]);
    expect(table).toEqual([
      ['INVALID_SEARCH_DATA', 400, 'invalid', 'INVALID_SEARCH_DATA'],
      ['PRECONDITION_FAILED', 400, 'invalid', 'PRECONDITION_FAILED'],
      ['UNAUTHENTICATED', 401, 'login', 'ACCESS_DENIED'],
      ['FORBIDDEN', 403, 'forbidden', 'ACCESS_DENIED'],
      ['NOT_FOUND', 404, 'not-found', 'INVALID_RESOURCE_ID'],
      ['THROTTLED', 429, 'throttled', 'TOO_MANY_REQUESTS'],
      ['INTERNAL', 500, 'exception', 'INTERNAL_SERVER_ERROR'],
    ]);
    for (const kind of Object.keys(FHIR_ERRORS) as (keyof typeof FHIR_ERRORS)[]) {
      const outcome = operationOutcome(kind, 'why');
      expect(fhirProblems(outcome)).toEqual([]);
      expect(outcome.issue[0]?.details?.coding?.[0]?.system).toBe(SPINE_ERROR_SYSTEM);
    }
  });

  it('maps the shared HTTP layer’s refusals, keeping Retry-After', () => {
    expect(fromApiError(apiErrors.unauthenticated()).kind).toBe('UNAUTHENTICATED');
    expect(fromApiError(apiErrors.forbidden('no')).kind).toBe('FORBIDDEN');
    expect(fromApiError(apiErrors.notFound('no')).kind).toBe('NOT_FOUND');
    expect(fromApiError(apiErrors.methodNotAllowed(['GET'])).kind).toBe('NOT_FOUND');
    expect(fromApiError(apiErrors.validation('bad')).kind).toBe('INVALID_SEARCH_DATA');
    expect(fromApiError(new ApiError(500, 'INTERNAL', 'x')).kind).toBe('INTERNAL');
    const throttled = fhirErrorResult(fromApiError(apiErrors.throttled(7)), 'r1', 'c1');
    expect(throttled).toMatchObject({
      statusCode: 429,
      headers: { 'Retry-After': '7', 'Content-Type': 'application/fhir+json', 'X-Correlation-ID': 'c1' },
    });
    expect(new FhirError('NOT_FOUND', 'x').status).toBe(404);
  });
});

describe('the metadata function', () => {
  it('answers the CapabilityStatement with the request id and the correlation id, whatever its case', async () => {
    const { handler } = await import('../../functions/fhir-metadata');
    const event = (headers: Record<string, string>) =>
      ({ headers, requestContext: { requestId: 'r-9' } }) as unknown as APIGatewayProxyEvent;
    const answer = await handler(event({ 'X-Correlation-ID': 'c-9' }));
    expect(answer).toMatchObject({
      statusCode: 200,
      headers: { 'Content-Type': 'application/fhir+json', 'X-Request-Id': 'r-9', 'X-Correlation-ID': 'c-9' },
    });
    expect(JSON.parse(answer.body)).toEqual(capabilityStatement());
    const lowerCase = await handler(event({ 'x-correlation-id': 'c-10' }));
    expect(lowerCase.headers?.['X-Correlation-ID']).toBe('c-10');
    const unsafe = await handler(event({ 'X-Correlation-ID': 'a\r\nSet-Cookie: x' }));
    expect(unsafe.headers).not.toHaveProperty('X-Correlation-ID');
  });
});
