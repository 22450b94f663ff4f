/**
 * No partial state. DynamoDB Local sits behind a proxy that injects throttling, transaction conflicts,
 * server errors and lost answers; every change must be all-or-nothing (a notification never without its
 * access, which is an audit event; a plan never without its audit event), transient faults must be retried,
 * and concurrent writers of one plan must end in one consistent state with a matching audit trail.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { publishPlan, registerCouncil, testNhsNumber, tokens } from '../harness';
import {
  count,
  type Fault,
  type FaultProxy,
  type ReliabilityService,
  reliabilityRecorder,
  startProxiedService,
  stopProxiedService,
} from './support';

const record = reliabilityRecorder('no-partial-state');

// Failed requests are the point here: keep their error logs out of the test output.
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

let proxy: FaultProxy;
let service: ReliabilityService;
const COUNCIL = 'E09000001';

beforeAll(async () => {
  ({ proxy, service } = await startProxiedService());
  await registerCouncil(service, COUNCIL);
}, 60_000);

afterAll(() => stopProxiedService({ proxy, service }));

afterEach(() => proxy.clear());

const hasItemOfKind = (kind: string) => (body: any) =>
  (body?.TransactItems ?? []).some(
    (item: any) =>
      item.Put?.Item?.kind?.S === kind || item.Update?.ExpressionAttributeValues?.[':kind']?.S === kind,
  );

/**
 * Items about one NHS number: its plans, its audit events, among them its accesses (the audit events
 * of notifying lookups that found plans), and the council messages those carry.
 */
async function itemsAbout(nhsNumber: string) {
  const items = await service.scanTable();
  const audits = items.filter((item) => item.PK === `AUDIT#${nhsNumber}`);
  const accesses = audits.filter((item) => String(item.SK).startsWith('ACCESS#'));
  return {
    plans: items.filter((item) => item.PK === `CHILD#${nhsNumber}` && item.kind === 'PLAN'),
    accesses,
    audits,
    messages: accesses.flatMap((item) =>
      item.notifies === true ? (item.messages as { eventId: string }[]) : [],
    ),
  };
}

/** A PutItem of a notifying lookup's access record (its audit event carrying council messages). */
const isAccessPut = (body: any) => String(body?.Item?.SK?.S).startsWith('ACCESS#');

/** The notifications the council received about one NHS number. */
const messagesAbout = async (nhsNumber: string) =>
  (await service.takeMessages(COUNCIL)).filter((message) => message.nhsNumber === nhsNumber);

const lookup = async (nhsNumber: string, activities = ['B0107']) =>
  service.request('GET', `/v1/children/${nhsNumber}`, { token: await tokens.clinician(activities) });

describe('DynamoDB faults', () => {
  it('retries throttling and transaction conflicts: every call succeeds, each change written once with its audit event', async () => {
    const before = proxy.totalInjected();
    const child = testNhsNumber(71_000);
    // The SDK retries throttled calls itself (after pauses of half a second or more): one each. The
    // table module retries cancelled transactions: two each.
    const once = (operation: string, fault: Fault) => proxy.inject({ operation, fault, times: 1 });
    const twice = (operation: string, fault: Fault, match?: (body: any) => boolean) =>
      proxy.inject({ operation, fault, times: 2, match });

    once('BatchGetItem', 'throttle');
    twice('TransactWriteItems', 'transaction-conflict', hasItemOfKind('PLAN'));
    expect((await publishPlan(service, COUNCIL, child, 'CPP', { startDate: '2026-01-01' })).status).toBe(201);

    once('BatchGetItem', 'provisioned-throughput-exceeded');
    twice('TransactWriteItems', 'transaction-throttled', hasItemOfKind('PLAN'));
    expect((await publishPlan(service, COUNCIL, child, 'CPP', { startDate: '2026-01-02' })).status).toBe(200);

    once('Query', 'throttle');
    proxy.inject({ operation: 'PutItem', fault: 'internal-error', times: 1, match: isAccessPut });
    expect((await lookup(child)).status).toBe(200);

    once('PutItem', 'throttle');
    expect((await lookup(child, ['B0170'])).status).toBe(200);

    once('TransactWriteItems', 'internal-error');
    const upload = await service.request('POST', `/v1/councils/${COUNCIL}/uploads?mode=delta`, {
      token: await tokens.council(COUNCIL),
      body: { records: [{ nhsNumber: child, planType: 'LAC', startDate: '2026-01-03' }] },
    });
    expect(upload.status).toBe(200);
    expect(upload.body.results[0].outcome).toBe('CREATED');

    twice('TransactWriteItems', 'transaction-in-progress', hasItemOfKind('STATUS'));
    const flag = await service.request('PUT', `/v1/nhs-numbers/${child}/sensitivity`, {
      token: await tokens.demographics(),
      body: { sensitive: true },
    });
    expect(flag.status).toBe(200);

    const injected = proxy.totalInjected() - before;
    expect(injected).toBe(6 * 1 + 3 * 2); // every fault above was injected, and every call still succeeded
    const state = await itemsAbout(child);
    expect(state.plans.map((plan) => [plan.planType, plan.startDate, plan.version]).sort()).toEqual([
      ['CPP', '2026-01-02', 2],
      ['LAC', '2026-01-03', 1],
    ]);
    expect(state.accesses).toHaveLength(1);
    expect(state.messages).toHaveLength(1);
    expect(state.audits.map((audit) => audit.action).sort()).toEqual([
      'LOOKUP_NOTIFYING',
      'LOOKUP_SILENT',
      'PLAN_CREATED',
      'PLAN_CREATED',
      'PLAN_UPDATED',
      'SENSITIVITY_CHANGED',
    ]);
    const delivered = await messagesAbout(child);
    expect(delivered.map((message) => message.eventId)).toEqual([state.messages[0]?.eventId]);

    record('retried', {
      guarantee: 'No partial state',
      test: 'throttling, transaction conflicts, transactions in progress and 500s are retried: each change written once',
      inputs: 6,
      faultsInjected: injected,
      outcomes: { 'calls that succeeded': 6, 'plans written': 2, 'accesses written': 1, 'audit events': 6 },
    });
  });

  it('a write that keeps failing leaves nothing behind: no plan without its audit event, no notification without its access', async () => {
    const before = proxy.totalInjected();
    const child = testNhsNumber(72_000);
    const other = testNhsNumber(72_100);
    await publishPlan(service, COUNCIL, child, 'CPP', { startDate: '2026-01-01' });
    await service.drained();
    const start = await itemsAbout(child);

    proxy.inject({ operation: 'TransactWriteItems', fault: 'transaction-conflict' });
    const outcomes: Record<string, number> = {};
    const attempts = [
      await publishPlan(service, COUNCIL, child, 'CPP', { startDate: '2026-01-05' }),
      await publishPlan(service, COUNCIL, child, 'LAC', { startDate: '2026-01-05' }),
      await service.request('POST', `/v1/nhs-numbers/${child}/superseded-by/${other}`, {
        token: await tokens.demographics(),
      }),
      await service.request('DELETE', `/v1/councils/${COUNCIL}/plans/${child}/CPP`, {
        token: await tokens.council(COUNCIL),
      }),
    ];
    proxy.clear();
    proxy.inject({ operation: 'PutItem', fault: 'internal-error' });
    attempts.push(await lookup(child));
    proxy.clear();
    for (const response of attempts) {
      count(outcomes, `answered ${response.status}`);
      expect(response.status).toBe(500);
      expect(response.body.error.code).toBe('INTERNAL');
    }
    // Exactly as before: nothing of any of them was written.
    expect(await itemsAbout(child)).toEqual(start);
    expect((await itemsAbout(other)).plans).toEqual([]);
    expect(await messagesAbout(child)).toEqual([]);

    // Once DynamoDB recovers, the same calls work and write everything together.
    expect((await lookup(child)).status).toBe(200);
    const after = await itemsAbout(child);
    expect(after.accesses).toHaveLength(1);
    expect(after.messages).toHaveLength(1);
    expect(after.audits.length).toBe(start.audits.length + 1);
    expect(await messagesAbout(child)).toHaveLength(1);

    record('failed-transaction', {
      guarantee: 'No partial state',
      test: 'a transaction that keeps failing (conflicts, 500s) leaves nothing behind; no access without its audit event',
      inputs: attempts.length,
      faultsInjected: proxy.totalInjected() - before,
      outcomes: { ...outcomes, 'items written by failed calls': 0 },
    });
  });

  it('a notifying lookup whose write committed but whose answer was lost is written once, and answered 200', async () => {
    const before = proxy.totalInjected();
    const child = testNhsNumber(73_000);
    await publishPlan(service, COUNCIL, child, 'CPP', { startDate: '2026-01-01' });
    await service.drained();
    proxy.inject({ operation: 'PutItem', fault: 'commit-then-fail', times: 1, match: isAccessPut });
    const response = await lookup(child);
    // The fault did strike (one lost answer); the SDK's retry found the item its first attempt wrote.
    expect(proxy.totalInjected() - before).toBe(1);
    expect(response.status).toBe(200);
    const state = await itemsAbout(child);
    // Committed once: one access (its audit event) carrying one message, and one notification.
    expect(state.accesses).toHaveLength(1);
    expect(state.audits.filter((audit) => audit.action === 'LOOKUP_NOTIFYING')).toHaveLength(1);
    expect(state.messages).toHaveLength(1);
    expect(await messagesAbout(child)).toHaveLength(1);

    record('lost-answer', {
      guarantee: 'No partial state',
      test: 'a notifying lookup whose committed write was answered 500 (answer lost): written exactly once, answered 200',
      inputs: 1,
      faultsInjected: proxy.totalInjected() - before,
      outcomes: { [`lookup answered ${response.status}`]: 1, 'accesses written': 1, 'notifications sent': 1 },
      notes: [
        'The SDK retried the PutItem; its condition found the item the first attempt wrote (the key holds an event id made for this write), which the table module takes as written.',
      ],
    });
  });
});

describe('concurrent writers of one plan', () => {
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const ROUNDS = 10;
  type Body = { startDate: string; endDate?: string | null };
  const audit = async (nhsNumber: string) =>
    (
      await service.request('GET', `/v1/audit/children/${nhsNumber}?limit=200`, {
        token: await tokens.auditor(),
      })
    ).body.events as { action: string; planType?: string }[];
  const current = async (nhsNumber: string) =>
    (
      await documents.send(
        new GetCommand({
          TableName: service.tableName,
          Key: { PK: `CHILD#${nhsNumber}`, SK: `PLAN#${COUNCIL}#CPP` },
          ConsistentRead: true,
        }),
      )
    ).Item;

  it('two different PUTs at once, many times: one consistent final state, versions and audit events agree', async () => {
    const outcomes: Record<string, number> = {};
    const observedBefore = new Map(proxy.observedErrors);
    for (let round = 0; round < ROUNDS; round++) {
      const child = testNhsNumber(74_000 + round * 10);
      const existing = round % 2 === 1;
      if (existing) await publishPlan(service, COUNCIL, child, 'CPP', { startDate: '2025-06-01' });
      const bodies: Body[] = [
        { startDate: '2026-01-01', endDate: null },
        { startDate: '2025-12-01', endDate: '2026-02-01' },
      ];
      const responses = await Promise.all(
        bodies.map((body) => publishPlan(service, COUNCIL, child, 'CPP', body)),
      );
      for (const response of responses) {
        count(outcomes, `PUT answered ${response.status}`);
        expect([200, 201]).toContain(response.status);
      }
      const final = await current(child);
      const finalBody = { startDate: final?.startDate, endDate: final?.endDate ?? null };
      expect(bodies).toContainEqual(finalBody);
      // The answer with the highest version is the final state.
      const latest = [...responses].sort((a, b) => Number(b.body.version) - Number(a.body.version))[0];
      expect({ startDate: latest?.body.startDate, endDate: latest?.body.endDate }).toEqual(finalBody);
      expect(new Set(responses.map((r) => r.body.version)).size).toBe(2);
      // One PLAN_* event per applied change, and the version counts the changes.
      const changes = (await audit(child)).filter((event) => event.action.startsWith('PLAN_'));
      expect(changes).toHaveLength(final?.version as number);
      // Read oldest first, the trail is a history that could have happened: created, then changed.
      expect(changes.map((event) => event.action).reverse()).toEqual([
        'PLAN_CREATED',
        ...Array.from({ length: changes.length - 1 }, () => expect.stringMatching(/^PLAN_(UPDATED|ENDED)$/)),
      ]);
    }

    // With If-Match on the same version, exactly one wins; the other is told 409.
    for (let round = 0; round < ROUNDS; round++) {
      const child = testNhsNumber(75_000 + round * 10);
      await publishPlan(service, COUNCIL, child, 'CPP', { startDate: '2025-06-01' });
      const responses = await Promise.all(
        [{ startDate: '2026-01-01' }, { startDate: '2025-06-01', endDate: '2026-01-31' }].map((body) =>
          publishPlan(service, COUNCIL, child, 'CPP', body, { 'If-Match': '"1"' }),
        ),
      );
      const statuses = responses.map((r) => r.status).sort();
      for (const status of statuses) count(outcomes, `PUT with If-Match answered ${status}`);
      expect(statuses).toEqual([200, 409]);
      const winner = responses.find((r) => r.status === 200);
      const final = await current(child);
      expect({
        startDate: final?.startDate,
        endDate: final?.endDate ?? null,
        version: String(final?.version),
      }).toEqual({
        startDate: winner?.body.startDate,
        endDate: winner?.body.endDate,
        version: '2',
      });
      expect((await audit(child)).filter((event) => event.action.startsWith('PLAN_'))).toHaveLength(2);
    }

    // A PUT racing a DELETE: either order is fine, but the trail must tell the story of the final state.
    for (let round = 0; round < ROUNDS; round++) {
      const child = testNhsNumber(76_000 + round * 10);
      await publishPlan(service, COUNCIL, child, 'CPP', { startDate: '2025-06-01' });
      const [put, del] = await Promise.all([
        publishPlan(service, COUNCIL, child, 'CPP', { startDate: '2026-01-01' }),
        service.request('DELETE', `/v1/councils/${COUNCIL}/plans/${child}/CPP`, {
          token: await tokens.council(COUNCIL),
        }),
      ]);
      count(outcomes, `PUT racing DELETE: ${put.status}/${del.status}`);
      expect([200, 201]).toContain(put.status);
      expect([204, 409]).toContain(del.status);
      const final = await current(child);
      const actions = (await audit(child)).map((event) => event.action).reverse();
      if (final) {
        // The plan exists: its version counts the changes since the last delete, all audited.
        const sinceDelete = actions.slice(actions.lastIndexOf('PLAN_DELETED') + 1);
        expect(sinceDelete).toHaveLength(final.version as number);
        expect(sinceDelete[0]).toBe('PLAN_CREATED');
      } else {
        expect(actions[actions.length - 1]).toBe('PLAN_DELETED');
      }
      expect(actions.filter((action) => action === 'PLAN_DELETED')).toHaveLength(del.status === 204 ? 1 : 0);
    }

    for (const [key, n] of proxy.observedErrors) {
      if (!key.startsWith('TransactWriteItems:')) continue;
      const seen = n - (observedBefore.get(key) ?? 0);
      if (seen > 0)
        count(
          outcomes,
          `writes refused by DynamoDB (${key.slice('TransactWriteItems:'.length)}), then re-read and retried or answered 409`,
          seen,
        );
    }
    record('concurrent-puts', {
      guarantee: 'No partial state',
      test: 'concurrent PUTs (and PUT vs DELETE) of one plan: one consistent final state, versions and audit trail agree',
      inputs: ROUNDS * 3 * 2,
      faultsInjected: 0,
      outcomes,
    });
  });
});
