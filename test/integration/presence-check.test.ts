/**
 * The presence check (GET /v1/children/{nhsNumber}/alert): whether an alert exists, without notifying
 * anyone or entering the access history; audited as ALERT_CHECKED; counted with the lookups.
 */
import {
  lookupChild,
  publishPlan,
  registerCouncil,
  startTestService,
  type TestService,
  testNhsNumber,
  tokens,
  useTestService,
} from './harness';

const COUNCIL = 'E09000001';
const OTHER_COUNCIL = 'E09000033';
const service = useTestService([
  COUNCIL,
  [OTHER_COUNCIL, { name: 'Westminster', emergencyDutyPhone: '020 7641 6000' }],
]);

const checkAlert = async (nhsNumber: string, activities: string[] = ['B0107']) =>
  service.request('GET', `/v1/children/${nhsNumber}/alert`, { token: await tokens.clinician(activities) });

const auditActions = async (nhsNumber: string) => {
  const response = await service.request('GET', `/v1/audit/children/${nhsNumber}`, {
    token: await tokens.auditor(),
  });
  expect(response.status).toBe(200);
  return (response.body.events as { action: string; outcome: string }[]).map(
    (event) => `${event.action} ${event.outcome}`,
  );
};

describe('presence check', () => {
  it('answers hasAlert true for a child with plans at two councils, and nobody is told', async () => {
    const child = testNhsNumber(7101);
    expect((await publishPlan(service, COUNCIL, child, 'CPP', { startDate: '2026-01-05' })).status).toBe(201);
    expect(
      (await publishPlan(service, OTHER_COUNCIL, child, 'LAC', { startDate: '2026-02-01' })).status,
    ).toBe(201);
    await service.takeMessages(COUNCIL);
    await service.takeMessages(OTHER_COUNCIL);

    const response = await checkAlert(child);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ nhsNumber: child, hasAlert: true });
    expect(response.headers.get('cache-control')).toBe('no-store');

    expect(await service.takeMessages(COUNCIL)).toEqual([]);
    expect(await service.takeMessages(OTHER_COUNCIL)).toEqual([]);
    expect(await auditActions(child)).toContain('ALERT_CHECKED FOUND');
  });

  it('is not an access: a later lookup does not list it in previousAccesses', async () => {
    const child = testNhsNumber(7102);
    await publishPlan(service, COUNCIL, child, 'CPP', { startDate: '2026-01-05' });
    expect((await checkAlert(child)).body.hasAlert).toBe(true);
    expect((await checkAlert(child, ['B0170'])).body.hasAlert).toBe(true);
    expect((await lookupChild(service, child)).body.previousAccesses).toEqual([]);
    // Only the earlier lookup is in the history; the details (the lookup) notify once, the checks never.
    const second = await lookupChild(service, child);
    expect(second.body.previousAccesses).toHaveLength(1);
    const messages = await service.takeMessages(COUNCIL);
    expect(messages.map((message) => message.type)).toEqual(['ChildRecordAccessed', 'ChildRecordAccessed']);
  });

  it('answers hasAlert false for a child without plans, audited NOT_FOUND', async () => {
    const child = testNhsNumber(7103);
    const response = await checkAlert(child);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ nhsNumber: child, hasAlert: false });
    expect(await auditActions(child)).toEqual(['ALERT_CHECKED NOT_FOUND']);
  });

  it('follows a superseded number, naming the replacement, audited under both numbers', async () => {
    const oldNumber = testNhsNumber(7104);
    const newNumber = testNhsNumber(7105);
    await publishPlan(service, COUNCIL, oldNumber, 'CPP', { startDate: '2026-01-05' });
    const moved = await service.request('POST', `/v1/nhs-numbers/${oldNumber}/superseded-by/${newNumber}`, {
      token: await tokens.demographics(),
    });
    expect(moved.status).toBe(200);
    await service.takeMessages(COUNCIL);

    const response = await checkAlert(oldNumber);
    expect(response.body).toEqual({ nhsNumber: oldNumber, supersededBy: newNumber, hasAlert: true });
    expect(await auditActions(oldNumber)).toContain('ALERT_CHECKED FOUND');
    expect(await auditActions(newNumber)).toContain('ALERT_CHECKED FOUND');
    expect(await service.takeMessages(COUNCIL)).toEqual([]);
  });

  it.each([[['B0107']], [['B0170']], [['B0107', 'B0170']]])(
    'allows a clinician holding %j',
    async (codes) => {
      const child = testNhsNumber(7106);
      await publishPlan(service, COUNCIL, child, 'UCPP', { startDate: '2026-01-05' });
      const response = await checkAlert(child, codes);
      expect(response.status).toBe(200);
      expect(response.body.hasAlert).toBe(true);
      expect(await service.takeMessages(COUNCIL)).toEqual([]);
    },
  );

  it('refuses a clinician holding neither code, and a council token, with 403', async () => {
    const child = testNhsNumber(7107);
    const clinician = await checkAlert(child, ['B0999']);
    expect(clinician.status).toBe(403);
    expect(clinician.body.error.code).toBe('FORBIDDEN');
    const council = await service.request('GET', `/v1/children/${child}/alert`, {
      token: await tokens.council(COUNCIL),
    });
    expect(council.status).toBe(403);
    expect(council.body.error.code).toBe('FORBIDDEN');
    expect(await auditActions(child)).not.toContain('ALERT_CHECKED NOT_FOUND');
  });

  it('refuses a bad NHS number (400) and an unknown method (405)', async () => {
    const bad = await checkAlert('9990000019');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('INVALID_NHS_NUMBER');
    const post = await service.request('POST', `/v1/children/${testNhsNumber(7108)}/alert`, {
      token: await tokens.clinician(['B0107']),
    });
    expect(post.status).toBe(405);
  });
});

describe('presence check rate limits', () => {
  let limited: TestService;
  afterEach(async () => {
    await limited?.close();
  });

  it('counts with the lookups against the per-user limit: 429 THROTTLED with Retry-After', async () => {
    limited = await startTestService({
      rateLimits: { perCallerPerMinute: 1_000, perUserPerMinute: 3, perOrganisationPerMinute: 1_000 },
    });
    await registerCouncil(limited, COUNCIL);
    const token = await tokens.clinician(['B0107']);
    const child = testNhsNumber(7109);
    const statuses = [];
    for (const path of [
      `/v1/children/${child}/alert`,
      `/v1/children/${child}`,
      `/v1/children/${child}/alert`,
    ])
      statuses.push((await limited.request('GET', path, { token })).status);
    expect(statuses).toEqual([200, 200, 200]);
    for (const path of [`/v1/children/${child}/alert`, `/v1/children/${child}`]) {
      const refused = await limited.request('GET', path, { token });
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('THROTTLED');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });
});
