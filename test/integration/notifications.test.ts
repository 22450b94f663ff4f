import { lookupChild, publishPlan, testNhsNumber, tokens, useTestService } from './harness';

const service = useTestService(['E09000001', 'E08000025']);

const lookup = (nhsNumber: string, activities?: string[], extra = {}) =>
  lookupChild(service, nhsNumber, activities, extra);

describe('council notifications', () => {
  it('sends each council holding a visible plan exactly one ChildRecordAccessed, listing its plan types', async () => {
    const child = testNhsNumber(1000);
    await publishPlan(service, 'E09000001', child, 'CPP', { startDate: '2026-01-01' });
    await publishPlan(service, 'E09000001', child, 'LAC', { startDate: '2026-02-01' });
    await publishPlan(service, 'E08000025', child, 'CPP', { startDate: '2026-03-01' });

    const response = await lookup(child, ['B0107'], { sub: 'u7', name: 'Dr Grace Hopper', org: 'RYY02' });
    expect(response.status).toBe(200);

    const first = await service.takeMessages('E09000001');
    const second = await service.takeMessages('E08000025');
    expect(first).toHaveLength(1);
    expect(second).toHaveLength(1);
    expect(first[0]).toEqual({
      type: 'ChildRecordAccessed',
      eventId: expect.stringMatching(/^[0-9A-Z]{26}$/),
      occurredAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      councilCode: 'E09000001',
      nhsNumber: child,
      planTypes: ['CPP', 'LAC'],
      accessedBy: {
        userId: 'u7',
        userName: 'Dr Grace Hopper',
        roleName: null,
        organisation: 'RYY02',
        organisationName: null,
        setting: 'emergency-department',
      },
    });
    expect(second[0]).toMatchObject({ councilCode: 'E08000025', planTypes: ['CPP'], nhsNumber: child });
    expect(second[0].eventId).not.toBe(first[0].eventId);
    expect(second[0].occurredAt).toBe(first[0].occurredAt);
  });

  it('notifies when the clinician holds both B0107 and B0170', async () => {
    const child = testNhsNumber(1100);
    await publishPlan(service, 'E09000001', child, 'CPP', { startDate: '2026-01-01' });
    await lookup(child, ['B0170', 'B0107']);
    expect(await service.takeMessages('E09000001')).toHaveLength(1);
  });

  it('sends nothing for a silent read (B0170), keeps it out of previousAccesses, and audits it', async () => {
    const child = testNhsNumber(1200);
    await publishPlan(service, 'E09000001', child, 'CPP', { startDate: '2026-01-01' });
    const silent = await lookup(child, ['B0170'], { sub: 'gp1' });
    expect(silent.body.plans).toHaveLength(1);
    expect(await service.takeMessages('E09000001')).toEqual([]);

    const notifying = await lookup(child, ['B0107'], { sub: 'ed1' });
    expect(notifying.body.previousAccesses).toEqual([]);
    expect(await service.takeMessages('E09000001')).toHaveLength(1);

    const audit = await service.request('GET', `/v1/audit/children/${child}`, {
      token: await tokens.auditor(),
    });
    expect(
      audit.body.events.slice(0, 2).map((event: any) => [event.action, event.outcome, event.actor.sub]),
    ).toEqual([
      ['LOOKUP_NOTIFYING', 'FOUND', 'ed1'],
      ['LOOKUP_SILENT', 'FOUND', 'gp1'],
    ]);
  });

  it('sends nothing when no plan is visible, and does not add the lookup to the access history', async () => {
    const child = testNhsNumber(1300);
    const response = await lookup(child, ['B0107']);
    expect(response.body.plans).toEqual([]);
    await publishPlan(service, 'E09000001', child, 'CPP', { startDate: '2026-01-01' });
    expect(await service.takeMessages('E09000001')).toEqual([]);
    const later = await lookup(child, ['B0107']);
    expect(later.body.previousAccesses).toEqual([]);
    expect(await service.takeMessages('E09000001')).toHaveLength(1);
    const audit = await service.request('GET', `/v1/audit/children/${child}`, {
      token: await tokens.auditor(),
    });
    expect(audit.body.events.map((event: any) => `${event.action}:${event.outcome}`)).toEqual([
      'LOOKUP_NOTIFYING:FOUND',
      'PLAN_CREATED:SUCCESS',
      'LOOKUP_NOTIFYING:NOT_FOUND',
    ]);
  });

  it('does not notify a council whose plan is no longer visible', async () => {
    const child = testNhsNumber(1400);
    await publishPlan(service, 'E09000001', child, 'CPP', { startDate: '2020-01-01', endDate: '2021-01-01' });
    await publishPlan(service, 'E08000025', child, 'LAC', { startDate: '2026-01-01' });
    await lookup(child, ['B0107']);
    expect(await service.takeMessages('E09000001')).toEqual([]);
    expect(await service.takeMessages('E08000025')).toHaveLength(1);
  });

  it('writes one item, the access record (an audit event), carrying one message per council', async () => {
    const child = testNhsNumber(1500);
    await publishPlan(service, 'E09000001', child, 'CPP', { startDate: '2026-01-01' });
    await publishPlan(service, 'E08000025', child, 'CPP', { startDate: '2026-01-01' });
    const before = await service.scanTable();
    await lookup(child, ['B0107']);
    const after = await service.scanTable();
    const added = after.filter((item) => !before.some((old) => old.PK === item.PK && old.SK === item.SK));
    expect(added.map((item) => [item.kind, item.PK, String(item.SK).split('#')[0], item.notifies])).toEqual([
      ['AUDIT', `AUDIT#${child}`, 'ACCESS', true],
    ]);
    const carried = added[0]?.messages as { eventId: string; councilCode: string }[];
    expect(carried.map((message) => message.councilCode).sort()).toEqual(['E08000025', 'E09000001']);
    const messages = [
      ...(await service.takeMessages('E09000001')),
      ...(await service.takeMessages('E08000025')),
    ];
    expect(messages).toEqual(expect.arrayContaining(carried));
    expect(messages.map((message) => message.eventId).sort()).toEqual(
      carried.map((message) => message.eventId).sort(),
    );
  });
});

describe('a local service restarted on the same table', () => {
  it('creates the queues of every council registered before, found through the council directory', async () => {
    const { startLocalService } = await import('../../local/service');
    const { SQSClient, GetQueueUrlCommand } = await import('@aws-sdk/client-sqs');
    const { councilQueueName } = await import('../../functions/notify/council-queues');
    const restarted = await startLocalService({
      tableName: service.tableName,
      queuePrefix: `${service.queuePrefix}again-`,
      port: 0,
    });
    try {
      const sqs = new SQSClient({});
      for (const code of ['E09000001', 'E08000025']) {
        const found = await sqs.send(
          new GetQueueUrlCommand({ QueueName: councilQueueName(restarted.queuePrefix, code) }),
        );
        expect(found.QueueUrl).toContain(`${restarted.queuePrefix}`);
      }
      await expect(
        sqs.send(new GetQueueUrlCommand({ QueueName: councilQueueName(restarted.queuePrefix, 'E06000001') })),
      ).rejects.toThrow();
      sqs.destroy();
    } finally {
      await restarted.close();
      process.env.COUNCIL_QUEUE_NAME_PREFIX = service.queuePrefix;
    }
  });
});
