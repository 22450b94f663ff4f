import {
  expectOnlyAdded,
  flagSensitive,
  lookupChild,
  publishPlan,
  serviceStore,
  testNhsNumber,
  tokens,
  useTestService,
} from './harness';

const service = useTestService(['E09000001', 'E08000025']);

const lookup = (nhsNumber: string, activities?: string[], extra = {}) =>
  lookupChild(service, nhsNumber, activities, extra);
const supersede = async (oldNumber: string, newNumber: string, token?: string) =>
  service.request('POST', `/v1/nhs-numbers/${oldNumber}/superseded-by/${newNumber}`, {
    token: token ?? (await tokens.demographics()),
  });

describe('NHS number supersession', () => {
  it('moves plans and access history to the new number, merges, and notifies each council once', async () => {
    const oldNumber = testNhsNumber(4000);
    const newNumber = testNhsNumber(4100);
    await publishPlan(service, 'E09000001', oldNumber, 'CPP', { startDate: '2026-02-01' });
    await publishPlan(service, 'E09000001', oldNumber, 'LAC', {
      startDate: '2026-03-01',
      endDate: '2026-06-01',
    });
    await publishPlan(service, 'E08000025', oldNumber, 'CPP', { startDate: '2026-04-01' });
    // The new number already has a LAC plan at the same council: they merge.
    await publishPlan(service, 'E09000001', newNumber, 'LAC', {
      startDate: '2026-05-01',
      endDate: '2026-09-01',
    });
    await lookup(oldNumber, ['B0107'], { sub: 'earlier-visit', org: 'RYY02' });
    await service.takeMessages('E09000001');
    await service.takeMessages('E08000025');

    const response = await supersede(oldNumber, newNumber);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ oldNhsNumber: oldNumber, newNhsNumber: newNumber, movedPlans: 3 });

    for (const council of ['E09000001', 'E08000025']) {
      const messages = await service.takeMessages(council);
      expect(messages).toEqual([
        {
          type: 'NhsNumberSuperseded',
          eventId: expect.stringMatching(/^[0-9A-Z]{26}$/),
          occurredAt: expect.any(String),
          councilCode: council,
          oldNhsNumber: oldNumber,
          newNhsNumber: newNumber,
        },
      ]);
    }

    const viaOld = await lookup(oldNumber, ['B0170']);
    expect(viaOld.body.nhsNumber).toBe(oldNumber);
    expect(viaOld.body.supersededBy).toBe(newNumber);
    const summary = viaOld.body.plans.map(
      (plan: any) => `${plan.council.code} ${plan.planType} ${plan.startDate} ${plan.endDate}`,
    );
    expect(summary.sort()).toEqual([
      'E08000025 CPP 2026-04-01 null',
      'E09000001 CPP 2026-02-01 null',
      'E09000001 LAC 2026-03-01 2026-09-01',
    ]);
    const viaNew = await lookup(newNumber, ['B0107'], { sub: 'later-visit' });
    expect(viaNew.body.supersededBy).toBeUndefined();
    expect(viaNew.body.plans).toHaveLength(3);
    expect(viaNew.body.previousAccesses.map((access: any) => access.userId)).toEqual(['earlier-visit']);
    // Only the old number's status remains in its partition, pointing at the new number; the new
    // number's status names the old one, whose access history (in the old number's audit trail, never
    // copied or moved) it now shows.
    const table = await service.scanTable();
    const oldItems = table.filter((item) => item.PK === `CHILD#${oldNumber}`);
    expect(oldItems.map((item) => item.kind)).toEqual(['STATUS']);
    expect(oldItems[0]?.newNhsNumber).toBe(newNumber);
    const newStatus = table.find((item) => item.PK === `CHILD#${newNumber}` && item.SK === 'STATUS');
    expect(newStatus?.replaces).toEqual(new Set([oldNumber]));
    expect(
      table.filter((item) => item.PK === `AUDIT#${oldNumber}` && String(item.SK).startsWith('ACCESS#')),
    ).toHaveLength(1);

    const audit = await service.request('GET', `/v1/audit/children/${newNumber}`, {
      token: await tokens.auditor(),
    });
    expect(audit.body.events.map((event: any) => event.action)).toContain('NHS_NUMBER_SUPERSEDED');

    // A lookup through the old number is about both: each number's audit trail shows it, notifying or not.
    await lookup(oldNumber, ['B0107'], { sub: 'via-old-number' });
    for (const council of ['E09000001', 'E08000025']) await service.takeMessages(council);
    for (const subject of [oldNumber, newNumber]) {
      const trail = await service.request('GET', `/v1/audit/children/${subject}`, {
        token: await tokens.auditor(),
      });
      const lookups = trail.body.events.filter((event: any) => event.action.startsWith('LOOKUP_'));
      expect(lookups.filter((event: any) => event.actor.sub === 'via-old-number')).toEqual([
        expect.objectContaining({ action: 'LOOKUP_NOTIFYING', outcome: 'FOUND' }),
      ]);
      // The silent lookup through the old number, above.
      expect(lookups.map((event: any) => event.action)).toContain('LOOKUP_SILENT');
    }

    // Reporting the same change again changes nothing.
    const before = await service.scanTable();
    const again = await supersede(oldNumber, newNumber);
    expect(again.body).toEqual({ oldNhsNumber: oldNumber, newNhsNumber: newNumber, movedPlans: 0 });
    expect(await service.scanTable()).toEqual(before);
  });

  it('keeps the whole access history through a chain of changes (A to B, then B to C)', async () => {
    const [a, b, c] = [4900, 4910, 4920].map(testNhsNumber) as [string, string, string];
    await publishPlan(service, 'E09000001', a, 'CPP', { startDate: '2026-01-01' });
    await lookup(a, ['B0107'], { sub: 'visit-a' });
    expect((await supersede(a, b)).status).toBe(200);
    await lookup(b, ['B0107'], { sub: 'visit-b' });
    expect((await supersede(b, c)).status).toBe(200);
    await service.takeMessages('E09000001');
    const viaC = await lookup(c, ['B0107'], { sub: 'visit-c' });
    expect(viaC.body.plans).toHaveLength(1);
    expect(viaC.body.previousAccesses.map((access: any) => access.userId)).toEqual(['visit-b', 'visit-a']);
    const status = (await service.scanTable()).find(
      (item) => item.PK === `CHILD#${c}` && item.SK === 'STATUS',
    );
    expect(status?.replaces).toEqual(new Set([a, b]));
  });

  it('refuses a supersession that read a stale list of the numbers the old one replaces', async () => {
    const { supersessions } = await serviceStore(service);
    const { WriteConflict } = await import('../../functions/core/errors');
    const [a, b, d] = [4940, 4950, 4960].map(testNhsNumber) as [string, string, string];
    await publishPlan(service, 'E09000001', a, 'CPP', { startDate: '2026-01-01' });
    expect((await supersede(a, b)).status).toBe(200);
    const audit = {
      action: 'NHS_NUMBER_SUPERSEDED' as const,
      outcome: 'SUCCESS' as const,
      actor: { sub: 'pds', name: 'Demographics feed', org: 'X26', role: 'demographics' as const },
      at: new Date().toISOString(),
    };
    const before = await service.scanTable();
    // Read before a became b's: b would pass on none, and d would lose a's history.
    await expect(
      supersessions.record({
        oldNhsNumber: b,
        newNhsNumber: d,
        moves: [],
        oldReplaces: [],
        audits: [
          { ...audit, subject: b },
          { ...audit, subject: d },
        ],
        messages: [],
      }),
    ).rejects.toBeInstanceOf(WriteConflict);
    expect(await service.scanTable()).toEqual(before);
    // Through the API, which reads again, it is recorded with the history passed on.
    expect((await supersede(b, d)).status).toBe(200);
    const status = (await service.scanTable()).find(
      (item) => item.PK === `CHILD#${d}` && item.SK === 'STATUS',
    );
    expect(status?.replaces).toEqual(new Set([a, b]));
  });

  it('moves a plan written under the old number while the change was being recorded, once reported again', async () => {
    const { plans, supersessions } = await serviceStore(service);
    const oldNumber = testNhsNumber(4030);
    const newNumber = testNhsNumber(4031);
    await publishPlan(service, 'E09000001', oldNumber, 'CPP', { startDate: '2026-02-01' });
    // The race: the supersession reads the old number, a council publishes another plan there, then the
    // supersession's transaction marks the number, moving only the plan it read.
    const read = await plans.readChild(oldNumber, { consistent: true });
    expect(
      (await publishPlan(service, 'E08000025', oldNumber, 'LAC', { startDate: '2026-03-01' })).status,
    ).toBe(201);
    const [first] = read.plans;
    if (!first) throw new Error('the first plan was not read');
    const at = new Date().toISOString();
    const audit = {
      action: 'NHS_NUMBER_SUPERSEDED' as const,
      outcome: 'SUCCESS' as const,
      actor: { sub: 'pds', name: 'Demographics feed', org: 'X26', role: 'demographics' as const },
      at,
    };
    await supersessions.record({
      oldNhsNumber: oldNumber,
      newNhsNumber: newNumber,
      moves: [{ from: first, into: { ...first, nhsNumber: newNumber, version: 1 } }],
      oldReplaces: [],
      audits: [
        { ...audit, subject: oldNumber },
        { ...audit, subject: newNumber },
      ],
      messages: [],
    });
    // Left under a number that lookups now follow away from: invisible.
    expect((await lookup(oldNumber, ['B0170'])).body.plans.map((plan: any) => plan.planType)).toEqual([
      'CPP',
    ]);
    await service.takeMessages('E08000025');

    const again = await supersede(oldNumber, newNumber);
    expect(again.body).toEqual({ oldNhsNumber: oldNumber, newNhsNumber: newNumber, movedPlans: 1 });
    const viaOld = await lookup(oldNumber, ['B0170']);
    expect(viaOld.body.supersededBy).toBe(newNumber);
    expect(viaOld.body.plans.map((plan: any) => `${plan.council.code} ${plan.planType}`).sort()).toEqual([
      'E08000025 LAC',
      'E09000001 CPP',
    ]);
    expect(
      (await service.scanTable()).filter((item) => item.PK === `CHILD#${oldNumber}` && item.kind === 'PLAN'),
    ).toEqual([]);
    expect(await service.takeMessages('E08000025')).toEqual([
      expect.objectContaining({
        type: 'NhsNumberSuperseded',
        oldNhsNumber: oldNumber,
        newNhsNumber: newNumber,
      }),
    ]);
    // Then, with nothing left to move, a report changes nothing.
    expect((await supersede(oldNumber, newNumber)).body.movedPlans).toBe(0);
  });

  it('refuses publishing to a superseded number with 409 naming the replacement', async () => {
    const oldNumber = testNhsNumber(4200);
    const newNumber = testNhsNumber(4300);
    await supersede(oldNumber, newNumber);
    const before = await service.scanTable();
    const response = await publishPlan(service, 'E09000001', oldNumber, 'CPP', { startDate: '2026-01-01' });
    expect({ status: response.status, code: response.body.error.code }).toEqual({
      status: 409,
      code: 'CONFLICT',
    });
    expect(response.body.error.message).toContain(newNumber);
    await expectOnlyAdded(service, before, [[`AUDIT#${oldNumber}`, 'PLAN_REFUSED']]);
  });

  it('lets only the demographics service report a change: a council is refused, even one holding a plan there', async () => {
    const oldNumber = testNhsNumber(4400);
    const newNumber = testNhsNumber(4500);
    await publishPlan(service, 'E09000001', oldNumber, 'CPP', { startDate: '2026-01-01' });
    // The attack: create an ended, invisible plan for any number, then merge it into a child of one's choosing.
    await publishPlan(service, 'E08000025', oldNumber, 'LAC', {
      startDate: '2025-01-01',
      endDate: '2025-02-01',
    });
    const before = await service.scanTable();
    for (const council of ['E08000025', 'E09000001']) {
      const refused = await supersede(oldNumber, newNumber, await tokens.council(council));
      expect({ status: refused.status, code: refused.body.error.code }).toEqual({
        status: 403,
        code: 'FORBIDDEN',
      });
    }
    const clinician = await supersede(oldNumber, newNumber, await tokens.clinician(['B0107']));
    expect(clinician.status).toBe(403);
    // Nothing changed but one ACCESS_DENIED audit event per refusing caller, under the number named.
    const added = (await service.scanTable()).filter(
      (item) => !before.some((old) => old.PK === item.PK && old.SK === item.SK),
    );
    expect(added.map((item) => [item.PK, item.action, item.outcome])).toEqual([
      [`REFUSALS#${oldNumber}`, 'ACCESS_DENIED', 'DENIED'],
      [`REFUSALS#${oldNumber}`, 'ACCESS_DENIED', 'DENIED'],
      [`REFUSALS#${oldNumber}`, 'ACCESS_DENIED', 'DENIED'],
    ]);
    const demographics = await supersede(oldNumber, newNumber, await tokens.demographics());
    expect(demographics.body.movedPlans).toBe(2);
  });

  it('refuses bad requests with the documented errors and writes nothing', async () => {
    const before = await service.scanTable();
    const token = await tokens.demographics();
    const invalid = await supersede('9990000017', testNhsNumber(4600), token);
    expect({ status: invalid.status, code: invalid.body.error.code }).toEqual({
      status: 400,
      code: 'INVALID_NHS_NUMBER',
    });
    expect(invalid.body.error.message).toMatch(/oldNhsNumber/);
    const same = await supersede(testNhsNumber(4600), testNhsNumber(4600), token);
    expect({ status: same.status, code: same.body.error.code }).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
    });
    expect(await service.scanTable()).toEqual(before);
  });
});

describe('sensitive records', () => {
  it('refuses new plans for a flagged number (409 SENSITIVE_RECORD), keeps existing plans visible, and unflags', async () => {
    const flagged = testNhsNumber(4700);
    await publishPlan(service, 'E09000001', flagged, 'CPP', { startDate: '2026-01-01' });
    const token = await tokens.demographics();
    const flag = await service.request('PUT', `/v1/nhs-numbers/${flagged}/sensitivity`, {
      token,
      body: { sensitive: true },
    });
    expect(flag.body).toEqual({ nhsNumber: flagged, sensitive: true });

    const before = await service.scanTable();
    const refused = await publishPlan(service, 'E08000025', flagged, 'LAC', { startDate: '2026-01-01' });
    expect({ status: refused.status, code: refused.body.error.code }).toEqual({
      status: 409,
      code: 'SENSITIVE_RECORD',
    });
    await expectOnlyAdded(service, before, [[`AUDIT#${flagged}`, 'PLAN_REFUSED']]);

    expect((await lookup(flagged, ['B0170'])).body.plans).toHaveLength(1);
    // The council holding the plan can still end it.
    expect(
      (
        await publishPlan(service, 'E09000001', flagged, 'CPP', {
          startDate: '2026-01-01',
          endDate: '2026-11-01',
        })
      ).status,
    ).toBe(200);

    await service.request('PUT', `/v1/nhs-numbers/${flagged}/sensitivity`, {
      token,
      body: { sensitive: false },
    });
    expect(
      (await publishPlan(service, 'E08000025', flagged, 'LAC', { startDate: '2026-01-01' })).status,
    ).toBe(201);
  });

  it('lets only the demographics system set the flag', async () => {
    const response = await service.request('PUT', `/v1/nhs-numbers/${testNhsNumber(4800)}/sensitivity`, {
      token: await tokens.council('E09000001'),
      body: { sensitive: true },
    });
    expect(response.status).toBe(403);
    const bad = await service.request('PUT', `/v1/nhs-numbers/${testNhsNumber(4800)}/sensitivity`, {
      token: await tokens.demographics(),
      body: { sensitive: 'yes' },
    });
    expect({ status: bad.status, code: bad.body.error.code }).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
    });
  });
});

describe('a plan write decided before the NHS number changed status', () => {
  // The handlers read the number's status before they decide; these writes skip that read, as a write
  // would whose status changed between its read and its transaction. The transaction's status check
  // must refuse it.
  const write = (nhsNumber: string, planType: 'CPP' | 'LAC', expectedVersion?: number) => ({
    plan: {
      nhsNumber,
      planType,
      councilCode: 'E09000001',
      startDate: '2026-01-10',
      endDate: null,
      version: (expectedVersion ?? 0) + 1,
    },
    expectedVersion,
    audit: {
      subject: nhsNumber,
      action: expectedVersion === undefined ? ('PLAN_CREATED' as const) : ('PLAN_UPDATED' as const),
      outcome: 'SUCCESS' as const,
      actor: { sub: 'E09000001-system', name: 'case system', org: 'E09000001', role: 'council' as const },
      at: new Date().toISOString(),
      planType,
      councilCode: 'E09000001',
    },
  });
  const plansOf = async (nhsNumber: string) =>
    (await service.scanTable())
      .filter((item) => item.PK === `CHILD#${nhsNumber}` && item.kind === 'PLAN')
      .map((item) => `${item.planType} v${item.version}`)
      .sort();

  it('refuses a new plan for a number superseded since, naming the replacement', async () => {
    const { plans } = await serviceStore(service);
    const oldNumber = testNhsNumber(4730);
    const newNumber = testNhsNumber(4731);
    expect((await supersede(oldNumber, newNumber)).status).toBe(200);

    await expect(plans.writeMany([write(oldNumber, 'CPP')])).rejects.toMatchObject({
      reason: 'SUPERSEDED',
      supersededBy: newNumber,
    });
    expect(await plansOf(oldNumber)).toEqual([]);
  });

  it('refuses a new plan for a number flagged sensitive since, but not a change to a plan already held', async () => {
    const { plans } = await serviceStore(service);
    const child = testNhsNumber(4710);
    await publishPlan(service, 'E09000001', child, 'LAC', { startDate: '2026-01-01' });
    await flagSensitive(service, child);

    await expect(plans.writeMany([write(child, 'CPP')])).rejects.toMatchObject({ reason: 'SENSITIVE' });
    // One transaction, one check per number: a change first, then a new plan, must get the stricter check.
    await expect(plans.writeMany([write(child, 'LAC', 1), write(child, 'CPP')])).rejects.toMatchObject({
      reason: 'SENSITIVE',
    });
    expect(await plansOf(child)).toEqual(['LAC v1']);

    await plans.writeMany([write(child, 'LAC', 1)]);
    expect(await plansOf(child)).toEqual(['LAC v2']);
  });

  it('lets a flagged number be superseded, and keeps both facts', async () => {
    const oldNumber = testNhsNumber(4720);
    const newNumber = testNhsNumber(4721);
    await flagSensitive(service, oldNumber);
    expect((await supersede(oldNumber, newNumber)).status).toBe(200);
    const status = (await service.scanTable()).find(
      (item) => item.PK === `CHILD#${oldNumber}` && item.kind === 'STATUS',
    );
    expect(status).toMatchObject({ sensitive: true, newNhsNumber: newNumber });
    expect((await lookup(oldNumber)).body.supersededBy).toBe(newNumber);
  });
});
