import { publishPlan, testNhsNumber, tokens, useTestService } from './harness';

const child = testNhsNumber(3000);
const planPath = (council: string, planType = 'CPP') => `/v1/councils/${council}/plans/${child}/${planType}`;

const service = useTestService(['E09000001', 'E08000025']);
beforeAll(async () => {
  await publishPlan(service, 'E09000001', child, 'CPP', { startDate: '2026-01-01' });
});

/** Items other than audit events: what a refused call must never change. */
async function stateWithoutAudit() {
  return (await service.scanTable()).filter((item) => item.kind !== 'AUDIT');
}

async function expectForbidden(method: string, path: string, token: string, body?: unknown) {
  const before = await stateWithoutAudit();
  const response = await service.request(method, path, { token, body });
  expect({ status: response.status, code: response.body?.error?.code }).toEqual({
    status: 403,
    code: 'FORBIDDEN',
  });
  expect(await stateWithoutAudit()).toEqual(before);
}

describe('who may do what', () => {
  it('a council cannot register, publish, end or delete for another council', async () => {
    const other = await tokens.council('E08000025');
    await expectForbidden('PUT', '/v1/councils/E09000001', other, {
      name: 'Hijack',
      emergencyDutyPhone: '0800 000 000',
    });
    await expectForbidden('PUT', planPath('E09000001'), other, {
      startDate: '2026-01-01',
      endDate: '2026-02-01',
    });
    await expectForbidden('PUT', planPath('E09000001', 'LAC'), other, { startDate: '2026-01-01' });
    await expectForbidden('DELETE', planPath('E09000001'), other);

    const view = await service.request('GET', `/v1/children/${child}`, {
      token: await tokens.clinician(['B0170']),
    });
    expect(view.body.plans).toEqual([expect.objectContaining({ planType: 'CPP', endDate: null })]);
    expect(view.body.plans[0].council.name).toBe('London Borough of Example');
  });

  it('audits each refusal on a valid NHS number as ACCESS_DENIED', async () => {
    const other = await tokens.council('E08000025');
    // Refusals of one caller within a minute are one event with a count, positioned at the minute's start.
    const denials = async () =>
      (
        await service.request('GET', `/v1/audit/children/${child}`, { token: await tokens.auditor() })
      ).body.events.filter((event: { action: string }) => event.action === 'ACCESS_DENIED');
    const counted = (events: { count: number }[]) => events.reduce((sum, event) => sum + event.count, 0);
    const before = await denials();
    await service.request('DELETE', planPath('E09000001'), { token: other });
    const after = await denials();
    expect(after.length - before.length).toBeLessThanOrEqual(1);
    expect(counted(after)).toBe(counted(before) + 1);
    expect(after[0]).toMatchObject({
      action: 'ACCESS_DENIED',
      outcome: 'DENIED',
      actor: { org: 'E08000025', role: 'council' },
      planType: 'CPP',
      councilCode: 'E09000001',
    });
  });

  it('a clinician, an auditor or the demographics system cannot publish or register', async () => {
    for (const token of [
      await tokens.clinician(['B0107', 'B0170'], { org: 'E09000001' }),
      await tokens.auditor({ org: 'E09000001' }),
      await tokens.demographics({ org: 'E09000001' }),
    ]) {
      await expectForbidden('PUT', planPath('E09000001'), token, {
        startDate: '2026-01-01',
        endDate: '2026-01-02',
      });
      await expectForbidden('DELETE', planPath('E09000001'), token);
      await expectForbidden('PUT', '/v1/councils/E09000001', token, {
        name: 'X',
        emergencyDutyPhone: '0800 000 000',
      });
    }
  });

  it('a council, an auditor or a clinician without B0107/B0170 cannot look a child up', async () => {
    for (const token of [
      await tokens.council('E09000001'),
      await tokens.auditor(),
      await tokens.demographics(),
      await tokens.clinician([]),
    ]) {
      await expectForbidden('GET', `/v1/children/${child}`, token);
    }
    expect(await service.takeMessages('E09000001')).toEqual([]);
  });

  it("a council reads back only its own registration, plans and children's accesses; no other role may", async () => {
    const readBack = [
      '/v1/councils/E09000001',
      planPath('E09000001'),
      '/v1/councils/E09000001/plans?status=all',
      `/v1/councils/E09000001/children/${child}/accesses`,
    ];
    for (const token of [
      await tokens.council('E08000025'),
      await tokens.clinician(['B0107', 'B0170'], { org: 'E09000001' }),
      await tokens.auditor({ org: 'E09000001' }),
      await tokens.demographics({ org: 'E09000001' }),
    ]) {
      for (const path of readBack) await expectForbidden('GET', path, token);
    }
    // E08000025 holds no plan for the child: reading the child's accesses under its own code is refused too.
    await expectForbidden(
      'GET',
      `/v1/councils/E08000025/children/${child}/accesses`,
      await tokens.council('E08000025'),
    );
    const own = await tokens.council('E09000001');
    for (const path of readBack)
      expect((await service.request('GET', path, { token: own })).status).toBe(200);
    expect(await service.takeMessages('E09000001')).toEqual([]);
  });

  it('only auditors read the audit trail', async () => {
    for (const token of [
      await tokens.council('E09000001'),
      await tokens.clinician(['B0107', 'B0170']),
      await tokens.demographics(),
    ]) {
      await expectForbidden('GET', `/v1/audit/children/${child}`, token);
    }
    const audit = await service.request('GET', `/v1/audit/children/${child}`, {
      token: await tokens.auditor(),
    });
    expect(audit.status).toBe(200);
  });
});
