import { clock } from '../../functions/core/clock';
import {
  EXAMPLE_COUNCIL,
  lookupChild,
  publishPlan,
  registerCouncil,
  testNhsNumber,
  tokens,
  useTestService,
} from './harness';

const service = useTestService([
  'E09000001',
  [
    'E08000025',
    { name: 'Example City Council', officeHoursPhone: '0121 496 0000', emergencyDutyPhone: '0121 496 0999' },
  ],
]);
const realNow = clock.now;

afterEach(() => {
  clock.now = realNow;
});

const lookup = (nhsNumber: string, activities?: string[], extra = {}) =>
  lookupChild(service, nhsNumber, activities, extra);

describe('publishing and looking up plans', () => {
  it('shows CPP, LAC and UCPP plans with the council name and both phones, newest start first', async () => {
    const child = testNhsNumber(100);
    const mother = testNhsNumber(200);
    expect((await publishPlan(service, 'E09000001', child, 'CPP', { startDate: '2026-03-01' })).status).toBe(
      201,
    );
    expect(
      (await publishPlan(service, 'E09000001', child, 'LAC', { startDate: '2026-05-10', endDate: null }))
        .status,
    ).toBe(201);
    expect(
      (await publishPlan(service, 'E09000001', mother, 'UCPP', { startDate: '2026-09-01' })).status,
    ).toBe(201);

    const council = { code: 'E09000001', ...EXAMPLE_COUNCIL };
    const childView = await lookup(child, ['B0170']);
    expect(childView.status).toBe(200);
    expect(childView.body).toEqual({
      nhsNumber: child,
      plans: [
        { planType: 'LAC', startDate: '2026-05-10', endDate: null, council },
        { planType: 'CPP', startDate: '2026-03-01', endDate: null, council },
      ],
      previousAccesses: [],
    });
    const motherView = await lookup(mother, ['B0170']);
    expect(motherView.body.plans).toEqual([
      { planType: 'UCPP', startDate: '2026-09-01', endDate: null, council },
    ]);
  });

  it('shows plans held at two councils (a transfer)', async () => {
    const child = testNhsNumber(300);
    await publishPlan(service, 'E09000001', child, 'CPP', { startDate: '2026-01-01' });
    await publishPlan(service, 'E08000025', child, 'CPP', { startDate: '2026-10-01' });
    const view = await lookup(child, ['B0170']);
    expect(
      view.body.plans.map((plan: any) => [
        plan.council.code,
        plan.council.name,
        plan.council.emergencyDutyPhone,
      ]),
    ).toEqual([
      ['E08000025', 'Example City Council', '0121 496 0999'],
      ['E09000001', 'London Borough of Example', '020 7946 0999'],
    ]);
  });

  it('answers a child with no plan with empty lists', async () => {
    const view = await lookup(testNhsNumber(400));
    expect(view.status).toBe(200);
    expect(view.body).toEqual({ nhsNumber: testNhsNumber(400), plans: [], previousAccesses: [] });
  });

  it('keeps an ended plan visible up to 12 months after its end date, then hides it', async () => {
    const child = testNhsNumber(500);
    clock.now = () => new Date('2026-03-20T10:00:00Z');
    await publishPlan(service, 'E09000001', child, 'CPP', { startDate: '2025-06-01' });
    const ended = await publishPlan(service, 'E09000001', child, 'CPP', {
      startDate: '2025-06-01',
      endDate: '2026-03-15',
    });
    expect(ended.status).toBe(200);
    expect(ended.body.endDate).toBe('2026-03-15');

    clock.now = () => new Date('2027-03-15T23:59:59.999Z');
    const lastDay = await lookup(child, ['B0170']);
    expect(lastDay.body.plans).toEqual([
      expect.objectContaining({ planType: 'CPP', startDate: '2025-06-01', endDate: '2026-03-15' }),
    ]);
    clock.now = () => new Date('2027-03-16T00:00:00.000Z');
    const dayAfter = await lookup(child, ['B0170']);
    expect(dayAfter.body.plans).toEqual([]);
  });

  it('keeps an ended unborn-child plan visible 28 days after its end, beside a CPP ended the same day', async () => {
    const mother = testNhsNumber(520);
    clock.now = () => new Date('2026-03-20T10:00:00Z');
    for (const planType of ['UCPP', 'CPP'] as const) {
      await publishPlan(service, 'E09000001', mother, planType, {
        startDate: '2025-10-01',
        endDate: '2026-03-15',
      });
    }
    const shown = async () =>
      (await lookup(mother, ['B0170'])).body.plans.map((plan: { planType: string }) => plan.planType);
    clock.now = () => new Date('2026-04-12T23:59:59.999Z');
    expect((await shown()).sort()).toEqual(['CPP', 'UCPP']);
    clock.now = () => new Date('2026-04-13T00:00:00.000Z');
    expect(await shown()).toEqual(['CPP']);
    // Every plan item carries its time to live: the first second after its last visible day.
    const items = (await service.scanTable()).filter(
      (item) => item.PK === `CHILD#${mother}` && item.kind === 'PLAN',
    );
    expect(Object.fromEntries(items.map((item) => [item.planType, item.expiresAt]))).toEqual({
      UCPP: Date.parse('2026-04-13T00:00:00Z') / 1000,
      CPP: Date.parse('2027-03-16T00:00:00Z') / 1000,
    });
  });

  it('treats a planned future end date as open', async () => {
    const child = testNhsNumber(550);
    const response = await publishPlan(service, 'E09000001', child, 'LAC', {
      startDate: '2026-01-01',
      endDate: '2099-01-01',
    });
    expect(response.status).toBe(201);
    expect((await lookup(child, ['B0170'])).body.plans).toHaveLength(1);
  });
});

describe('previous accesses', () => {
  it('lists at most 25 earlier unscheduled-care lookups, newest first, excluding the current one', async () => {
    const child = testNhsNumber(600);
    await publishPlan(service, 'E09000001', child, 'CPP', { startDate: '2026-01-01' });
    const base = Date.parse('2026-11-01T00:00:00Z');
    for (let i = 0; i < 30; i++) {
      clock.now = () => new Date(base + i * 60_000);
      const response = await lookup(child, ['B0107'], { sub: `u${i}`, name: `Dr ${i}`, org: 'RYY02' });
      expect(response.body.previousAccesses).toHaveLength(Math.min(i, 25));
      if (i > 0) expect(response.body.previousAccesses[0].userId).toBe(`u${i - 1}`);
    }
    // Silent reads and lookups that found nothing never appear.
    clock.now = () => new Date(base + 31 * 60_000);
    await lookup(child, ['B0170'], { sub: 'silent' });
    clock.now = () => new Date(base + 32 * 60_000);
    const last = await lookup(child, ['B0107'], { sub: 'last' });
    expect(last.body.previousAccesses).toHaveLength(25);
    expect(last.body.previousAccesses.map((access: any) => access.userId)).toEqual(
      Array.from({ length: 25 }, (_, i) => `u${29 - i}`),
    );
    expect(last.body.previousAccesses[0]).toEqual({
      accessedAt: new Date(base + 29 * 60_000).toISOString(),
      userId: 'u29',
      userName: 'Dr 29',
      roleName: null,
      organisation: 'RYY02',
      organisationName: null,
      setting: 'emergency-department',
    });
  });

  it("names the viewer's job role and organisation when the token carries them", async () => {
    const child = testNhsNumber(650);
    await publishPlan(service, 'E09000001', child, 'CPP', { startDate: '2026-01-01' });
    await lookup(child, ['B0107'], {
      sub: 'u7',
      name: 'Dr Grace Hopper',
      org: 'RYY02',
      roleName: 'Staff Nurse',
      orgName: 'Example Hospitals NHS Trust',
    });
    const next = await lookup(child, ['B0170']);
    expect(next.body.previousAccesses).toEqual([
      expect.objectContaining({
        userId: 'u7',
        userName: 'Dr Grace Hopper',
        roleName: 'Staff Nurse',
        organisation: 'RYY02',
        organisationName: 'Example Hospitals NHS Trust',
      }),
    ]);
    const messages = (await service.takeMessages('E09000001')).filter((m) => m.nhsNumber === child);
    expect(messages).toHaveLength(1);
    expect(messages[0].accessedBy).toEqual({
      userId: 'u7',
      userName: 'Dr Grace Hopper',
      roleName: 'Staff Nurse',
      organisation: 'RYY02',
      organisationName: 'Example Hospitals NHS Trust',
      setting: 'emergency-department',
    });
  });
});

describe('writes are idempotent and versioned', () => {
  it('answers the same PUT twice with the same body, writing and auditing nothing the second time', async () => {
    const child = testNhsNumber(700);
    const first = await publishPlan(service, 'E09000001', child, 'CPP', { startDate: '2026-02-01' });
    expect(first.status).toBe(201);
    expect(first.headers.get('etag')).toBe(`"${first.body.version}"`);
    const before = await service.scanTable();
    const second = await publishPlan(service, 'E09000001', child, 'CPP', { startDate: '2026-02-01' });
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(await service.scanTable()).toEqual(before);

    const audit = await service.request('GET', `/v1/audit/children/${child}`, {
      token: await tokens.auditor(),
    });
    expect(
      audit.body.events.map((event: any) => [event.action, event.outcome, event.planType, event.councilCode]),
    ).toEqual([['PLAN_CREATED', 'SUCCESS', 'CPP', 'E09000001']]);
  });

  it("audits a council's registration and each change to it under the council, and nothing for a repeat", async () => {
    const code = 'E06000099';
    const councilAudit = async () =>
      (await service.scanTable()).filter((item) => item.PK === `AUDIT#COUNCIL#${code}`);
    await registerCouncil(service, code);
    await registerCouncil(service, code);
    const changed = { ...EXAMPLE_COUNCIL, emergencyDutyPhone: '020 7946 0123' };
    const answer = await registerCouncil(service, code, changed);
    expect(answer.body).toEqual({ code, ...changed });

    const entries = await councilAudit();
    expect(entries.map((item) => [item.action, item.outcome, item.councilCode, item.actor])).toEqual([
      [
        'COUNCIL_REGISTERED',
        'SUCCESS',
        code,
        { sub: `${code}-system`, name: `${code} case system`, org: code, role: 'council' },
      ],
      [
        'COUNCIL_UPDATED',
        'SUCCESS',
        code,
        { sub: `${code}-system`, name: `${code} case system`, org: code, role: 'council' },
      ],
    ]);
    const child = testNhsNumber(880);
    expect((await publishPlan(service, code, child, 'CPP', { startDate: '2026-02-01' })).status).toBe(201);
    expect((await lookup(child)).body.plans[0].council).toEqual({ code, ...changed });
  });

  it('makes a write conditional on If-Match (quoted or bare) and answers 409 on a stale version', async () => {
    const child = testNhsNumber(800);
    const created = await publishPlan(service, 'E09000001', child, 'CPP', { startDate: '2026-02-01' });
    const etag = created.headers.get('etag') as string;
    const updated = await publishPlan(
      service,
      'E09000001',
      child,
      'CPP',
      { startDate: '2026-01-15' },
      { 'If-Match': etag },
    );
    expect(updated.status).toBe(200);
    expect(updated.body.version).not.toBe(created.body.version);

    const before = await service.scanTable();
    const stale = await publishPlan(
      service,
      'E09000001',
      child,
      'CPP',
      { startDate: '2026-01-10' },
      { 'If-Match': etag },
    );
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('CONFLICT');
    expect(await service.scanTable()).toEqual(before);

    const bare = await publishPlan(
      service,
      'E09000001',
      child,
      'CPP',
      { startDate: '2026-02-01', endDate: '2026-11-01' },
      {
        'If-Match': updated.body.version,
      },
    );
    expect(bare.status).toBe(200);
    const audit = await service.request('GET', `/v1/audit/children/${child}`, {
      token: await tokens.auditor(),
    });
    expect(audit.body.events.map((event: any) => event.action)).toEqual([
      'PLAN_ENDED',
      'PLAN_UPDATED',
      'PLAN_CREATED',
    ]);
  });

  it('deletes a plan entered in error, keeping its history in the audit trail', async () => {
    const child = testNhsNumber(900);
    await publishPlan(service, 'E09000001', child, 'LAC', { startDate: '2026-02-01' });
    const token = await tokens.council('E09000001');
    const deleted = await service.request('DELETE', `/v1/councils/E09000001/plans/${child}/LAC`, { token });
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect((await lookup(child, ['B0170'])).body.plans).toEqual([]);
    const again = await service.request('DELETE', `/v1/councils/E09000001/plans/${child}/LAC`, { token });
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('NOT_FOUND');
    const audit = await service.request('GET', `/v1/audit/children/${child}`, {
      token: await tokens.auditor(),
    });
    expect(audit.body.events.map((event: any) => event.action)).toEqual([
      'LOOKUP_SILENT',
      'PLAN_DELETED',
      'PLAN_CREATED',
    ]);
  });

  it('pages the audit trail with an opaque cursor', async () => {
    const child = testNhsNumber(950);
    await publishPlan(service, 'E09000001', child, 'CPP', { startDate: '2026-02-01' });
    for (let i = 0; i < 4; i++) await lookup(child, ['B0170']);
    const token = await tokens.auditor();
    const first = await service.request('GET', `/v1/audit/children/${child}?limit=3`, { token });
    expect(first.body.events).toHaveLength(3);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await service.request(
      'GET',
      `/v1/audit/children/${child}?limit=3&cursor=${first.body.nextCursor}`,
      { token },
    );
    expect(second.body.events).toHaveLength(2);
    expect(second.body.nextCursor).toBeNull();
    const actions = [...first.body.events, ...second.body.events].map((event: any) => event.action);
    expect(actions).toEqual([
      'LOOKUP_SILENT',
      'LOOKUP_SILENT',
      'LOOKUP_SILENT',
      'LOOKUP_SILENT',
      'PLAN_CREATED',
    ]);
    const ids = new Set([...first.body.events, ...second.body.events].map((event: any) => event.eventId));
    expect(ids.size).toBe(5);
  });

  it('pages accesses and other events of one trail together, newest first, each once', async () => {
    // Accesses (notifying lookups that found plans) are kept apart from other audit events: the trail
    // must still read as one sequence in time, page after page.
    const child = testNhsNumber(970);
    await publishPlan(service, 'E09000001', child, 'CPP', { startDate: '2026-02-01' });
    const expected = ['PLAN_CREATED'];
    for (let i = 0; i < 7; i++) {
      const activities = i % 3 === 1 ? ['B0170'] : ['B0107'];
      await lookup(child, activities);
      expected.unshift(activities[0] === 'B0107' ? 'LOOKUP_NOTIFYING' : 'LOOKUP_SILENT');
    }
    const token = await tokens.auditor();
    const pages: any[][] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page = await service.request('GET', `/v1/audit/children/${child}${query}`, { token });
      expect(page.status).toBe(200);
      pages.push(page.body.events);
      cursor = page.body.nextCursor;
    } while (cursor && pages.length < 10);
    expect(pages.map((page) => page.length)).toEqual([2, 2, 2, 2]);
    const events = pages.flat();
    expect(events.map((event) => event.action)).toEqual(expected);
    expect(new Set(events.map((event) => event.eventId)).size).toBe(8);
    const times = events.map((event) => event.at);
    expect([...times].sort().reverse()).toEqual(times);
    // Only the contract's fields: nothing of the messages an access carries.
    for (const event of events.filter((event) => event.action.startsWith('LOOKUP_'))) {
      expect(Object.keys(event).sort()).toEqual(['action', 'actor', 'at', 'eventId', 'outcome']);
    }
  });
});
