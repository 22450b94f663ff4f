/**
 * NHS number changes at any size: a number holding plans of 20 councils, 3 types each, moves whole
 * (in several transactions, each council told once), a repeat changes nothing; and a child into whom
 * 400 numbers were merged is looked up with no more table requests than a child with none, its access
 * history still the newest 25.
 */
import { clock } from '../../../functions/core/clock';
import { lookupChild, publishPlan, registerCouncil, testNhsNumber, tokens } from '../harness';
import { type FaultProxy, type ReliabilityService, startProxiedService, stopProxiedService } from './support';

let proxy: FaultProxy;
let service: ReliabilityService;
const realNow = clock.now;

beforeAll(async () => {
  ({ proxy, service } = await startProxiedService());
}, 60_000);
afterAll(async () => {
  clock.now = realNow;
  await stopProxiedService({ proxy, service });
});

const supersede = async (oldNumber: string, newNumber: string) =>
  service.request('POST', `/v1/nhs-numbers/${oldNumber}/superseded-by/${newNumber}`, {
    token: await tokens.demographics(),
  });

it('moves the plans of 20 councils of 3 types each in one change, tells each council once, and a repeat writes nothing', async () => {
  const councils = Array.from({ length: 20 }, (_, i) => `E0600${String(i + 100).padStart(4, '0')}`);
  const [oldNumber, newNumber] = [testNhsNumber(12_000), testNhsNumber(12_010)] as [string, string];
  for (const council of councils) {
    await registerCouncil(service, council);
    for (const planType of ['CPP', 'LAC', 'UCPP'] as const)
      expect(
        (await publishPlan(service, council, oldNumber, planType, { startDate: '2026-01-01' })).status,
      ).toBe(201);
  }
  const moved = await supersede(oldNumber, newNumber);
  expect(moved.status).toBe(200);
  expect(moved.body).toEqual({ oldNhsNumber: oldNumber, newNhsNumber: newNumber, movedPlans: 60 });
  const items = await service.scanTable();
  expect(items.filter((item) => item.PK === `CHILD#${oldNumber}` && item.kind === 'PLAN')).toEqual([]);
  expect(items.filter((item) => item.PK === `CHILD#${newNumber}` && item.kind === 'PLAN')).toHaveLength(60);
  for (const council of councils) {
    const messages = (await service.takeMessages(council)).filter((m) => m.type === 'NhsNumberSuperseded');
    expect(messages).toEqual([
      expect.objectContaining({ councilCode: council, oldNhsNumber: oldNumber, newNhsNumber: newNumber }),
    ]);
  }
  const view = await lookupChild(service, oldNumber, ['B0170']);
  expect(view.body.supersededBy).toBe(newNumber);
  expect(view.body.plans).toHaveLength(60);

  const before = await service.scanTable();
  const again = await supersede(oldNumber, newNumber);
  expect(again.body).toEqual({ oldNhsNumber: oldNumber, newNhsNumber: newNumber, movedPlans: 0 });
  expect(await service.scanTable()).toEqual(before);
}, 120_000);

it('looks up a child into whom 400 numbers were merged with no more table requests than one with none', async () => {
  const council = 'E06000200';
  await registerCouncil(service, council);
  const child = testNhsNumber(13_000);
  const lone = testNhsNumber(13_001);
  await publishPlan(service, council, child, 'CPP', { startDate: '2026-01-01' });
  await publishPlan(service, council, lone, 'CPP', { startDate: '2026-01-01' });
  const merged = Array.from({ length: 400 }, (_, i) => testNhsNumber(14_000 + i * 3));
  // Thirty of the merged numbers were seen in an emergency department, a minute apart, before the merges.
  const base = Date.parse('2026-11-01T00:00:00Z');
  try {
    for (const [i, nhsNumber] of merged.slice(0, 30).entries()) {
      await publishPlan(service, council, nhsNumber, 'LAC', { startDate: '2026-01-01' });
      clock.now = () => new Date(base + i * 60_000);
      await lookupChild(service, nhsNumber, ['B0107'], { sub: `visit-${i}` });
    }
  } finally {
    clock.now = realNow;
  }
  for (const nhsNumber of merged) expect((await supersede(nhsNumber, child)).status).toBe(200);

  const requestsOf = async (nhsNumber: string) => {
    proxy.takeRequests();
    const view = await lookupChild(service, nhsNumber, ['B0170']);
    return { view, requests: proxy.takeRequests().map((request) => request.operation) };
  };
  const mergedLookup = await requestsOf(child);
  const loneLookup = await requestsOf(lone);
  expect(mergedLookup.requests.length).toBeLessThanOrEqual(loneLookup.requests.length);
  expect(mergedLookup.view.body.previousAccesses.map((access: { userId: string }) => access.userId)).toEqual(
    Array.from({ length: 25 }, (_, i) => `visit-${29 - i}`),
  );
  // The child's audit trail keeps its own events: the carried accesses are the merged numbers'.
  const trail = await service.request('GET', `/v1/audit/children/${child}?limit=200`, {
    token: await tokens.auditor(),
  });
  expect(
    trail.body.events.filter((event: { action: string }) => event.action === 'LOOKUP_NOTIFYING'),
  ).toEqual([]);
}, 240_000);
