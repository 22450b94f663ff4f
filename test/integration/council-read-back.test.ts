/**
 * A council reads back what it holds: its registration, a plan with the ETag its next conditional write
 * needs, its plans page by page (open, visible or all), and the recent accesses of a child it holds a
 * visible plan for, as a clinician's lookup shows them.
 */
import { clock } from '../../functions/core/clock';
import {
  EXAMPLE_COUNCIL,
  lookupChild,
  publishPlan,
  serviceStore,
  testNhsNumber,
  tokens,
  useTestService,
} from './harness';

const OWN = 'E09000001';
const OTHER = 'E08000025';
const UNREGISTERED = 'E07000123';
const service = useTestService([OWN, OTHER]);

// Every date below is relative to this "today"; lookups and writes read the same clock.
const TODAY = '2026-11-20';
const realNow = clock.now;
let tick = 0;
beforeEach(() => {
  // A fixed day, each reading a millisecond later: accesses keep their order.
  clock.now = () => new Date(Date.parse(`${TODAY}T10:00:00.000Z`) + tick++);
});
afterAll(() => {
  clock.now = realNow;
});

const get = async (path: string, code = OWN) =>
  service.request('GET', path, { token: await tokens.council(code) });

const auditOf = async (nhsNumber: string) =>
  (
    await service.request('GET', `/v1/audit/children/${nhsNumber}?limit=200`, {
      token: await tokens.auditor(),
    })
  ).body.events as {
    action: string;
    outcome: string;
    councilCode?: string;
    count?: number;
    actor: { org: string };
  }[];

describe('registration and one plan', () => {
  it('reads back the registration as the PUT stored it; an unregistered council gets 404', async () => {
    const read = await get(`/v1/councils/${OWN}`);
    expect({ status: read.status, body: read.body }).toEqual({
      status: 200,
      body: { code: OWN, ...EXAMPLE_COUNCIL },
    });
    const unregistered = await get(`/v1/councils/${UNREGISTERED}`, UNREGISTERED);
    expect({ status: unregistered.status, code: unregistered.body.error.code }).toEqual({
      status: 404,
      code: 'NOT_FOUND',
    });
  });

  it('a plan read back carries the ETag a conditional PUT accepts; a stale one then gets 409', async () => {
    const child = testNhsNumber(60_000);
    const path = `/v1/councils/${OWN}/plans/${child}/CPP`;
    const written = await publishPlan(service, OWN, child, 'CPP', { startDate: '2026-03-01' });
    const read = await get(path);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(written.body);
    expect(read.headers.get('etag')).toBe(written.headers.get('etag'));

    const ended = await publishPlan(
      service,
      OWN,
      child,
      'CPP',
      { startDate: '2026-03-01', endDate: '2026-11-01' },
      { 'If-Match': read.headers.get('etag') as string },
    );
    expect(ended.status).toBe(200);
    const again = await get(path);
    expect(again.body).toEqual(ended.body);
    expect(again.body.endDate).toBe('2026-11-01');
    expect(again.headers.get('etag')).not.toBe(read.headers.get('etag'));

    const stale = await publishPlan(
      service,
      OWN,
      child,
      'CPP',
      { startDate: '2026-03-02' },
      { 'If-Match': read.headers.get('etag') as string },
    );
    expect({ status: stale.status, code: stale.body.error.code }).toEqual({ status: 409, code: 'CONFLICT' });
    expect((await get(path)).body).toEqual(ended.body);
  });

  it('404 for a plan the council does not hold; another council is refused 403, the refusal audited', async () => {
    const child = testNhsNumber(60_100);
    await publishPlan(service, OWN, child, 'LAC', { startDate: '2026-01-01' });
    const missing = await get(`/v1/councils/${OWN}/plans/${child}/CPP`);
    expect({ status: missing.status, code: missing.body.error.code }).toEqual({
      status: 404,
      code: 'NOT_FOUND',
    });

    for (const path of [
      `/v1/councils/${OWN}`,
      `/v1/councils/${OWN}/plans/${child}/LAC`,
      `/v1/councils/${OWN}/plans`,
      `/v1/councils/${OWN}/children/${child}/accesses`,
    ]) {
      const refused = await get(path, OTHER);
      expect({ path, status: refused.status, code: refused.body.error.code }).toEqual({
        path,
        status: 403,
        code: 'FORBIDDEN',
      });
    }
    // Neither a clinician nor an auditor reads a council's plans back.
    for (const token of [
      await tokens.clinician(['B0107', 'B0170'], { org: OWN }),
      await tokens.auditor({ org: OWN }),
    ]) {
      const refused = await service.request('GET', `/v1/councils/${OWN}/plans/${child}/LAC`, { token });
      expect(refused.status).toBe(403);
    }
    // Each caller's refusals within a minute are one event with a count: OTHER's two (the plan and the
    // accesses name the child), the clinician's and the auditor's.
    const denials = (await auditOf(child)).filter((event) => event.action === 'ACCESS_DENIED');
    expect(denials.map((event) => `${event.actor.org}×${event.count}`).sort()).toEqual([
      `${OTHER}×2`,
      `${OWN}×1`,
      `${OWN}×1`,
    ]);
  });
});

describe("a council's plans, page by page", () => {
  // Each kind of plan, with the statuses it has today (2026-11-20).
  const KINDS = [
    { endDate: null, open: true, visible: true },
    { endDate: '2026-12-31', open: true, visible: true }, // a planned end
    { endDate: TODAY, open: false, visible: true }, // ended today
    { endDate: '2026-06-01', open: false, visible: true }, // ended, visible 12 months
    { endDate: '2025-01-01', open: false, visible: false }, // no longer visible, not yet removed
  ] as const;
  const seeded: { nhsNumber: string; planType: string; open: boolean; visible: boolean }[] = [];
  const key = (plan: { nhsNumber: string; planType: string }) => `${plan.nhsNumber}#${plan.planType}`;
  // The children seeded here (testNhsNumber 61_000 to 61_290); other tests' plans of OWN list too.
  const PAGED = '999061';

  beforeAll(async () => {
    const records: object[] = [];
    const others: object[] = [];
    for (let i = 0; i < 30; i++) {
      const nhsNumber = testNhsNumber(61_000 + i * 10);
      const kind = KINDS[i % KINDS.length] as (typeof KINDS)[number];
      const planTypes = i % 3 === 0 ? ['CPP', 'LAC'] : [i % 3 === 1 ? 'LAC' : 'CPP'];
      for (const planType of planTypes) {
        records.push({ nhsNumber, planType, startDate: '2024-06-01', endDate: kind.endDate });
        seeded.push({ nhsNumber, planType, open: kind.open, visible: kind.visible });
      }
      // Unborn-child plans are visible 28 days after their end.
      if (i % 4 === 0) {
        const endDate = i % 8 === 0 ? '2026-11-01' : '2026-10-01';
        records.push({ nhsNumber, planType: 'UCPP', startDate: '2026-01-01', endDate });
        seeded.push({ nhsNumber, planType: 'UCPP', open: false, visible: i % 8 === 0 });
      }
      // Another council's plans for the same children, which never show.
      if (i % 2 === 0) others.push({ nhsNumber, planType: 'CPP', startDate: '2025-01-01' });
    }
    for (const [code, batch] of [
      [OWN, records],
      [OTHER, others],
    ] as const) {
      const upload = await service.request('POST', `/v1/councils/${code}/uploads?mode=delta`, {
        token: await tokens.council(code),
        body: { records: batch },
      });
      expect({ status: upload.status, result: upload.body.status }).toEqual({
        status: 200,
        result: 'ALL_ACCEPTED',
      });
    }
  });

  /** Every page of a listing, following nextCursor from the first. */
  async function allPages(query: string, limit: number) {
    const pages: { nhsNumber: string; planType: string; councilCode: string }[][] = [];
    let cursor: string | null = null;
    do {
      const response = await get(
        `/v1/councils/${OWN}/plans?${query}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(response.status).toBe(200);
      expect(response.body.plans.length).toBeLessThanOrEqual(limit);
      pages.push(response.body.plans);
      cursor = response.body.nextCursor;
      expect(pages.length).toBeLessThan(100);
    } while (cursor);
    return pages;
  }

  const ours = (filter: (plan: (typeof seeded)[number]) => boolean) =>
    seeded
      .filter(filter)
      .map(key)
      .filter((k) => k.startsWith(PAGED))
      .sort();

  it.each([
    ['open', (plan: (typeof seeded)[number]) => plan.open],
    ['visible', (plan: (typeof seeded)[number]) => plan.visible],
    ['all', () => true],
  ] as const)(
    'status=%s: every plan once across pages, by NHS number then plan type',
    async (status, filter) => {
      const pages = await allPages(`status=${status}&`, 7);
      const listed = pages.flat();
      expect(pages.length).toBeGreaterThan(2);
      expect(listed.every((plan) => plan.councilCode === OWN)).toBe(true);
      // In order, each once: the listing is exactly the sorted expectation.
      expect(listed.map(key).filter((k) => k.startsWith(PAGED))).toEqual(ours(filter));
    },
  );

  it('status defaults to visible and limit to 100; every plan comes as a PUT answers it', async () => {
    const first = await get(`/v1/councils/${OWN}/plans`);
    expect(first.status).toBe(200);
    const visible = ours((plan) => plan.visible);
    expect(first.body.plans.map(key).filter((k: string) => k.startsWith(PAGED))).toEqual(visible);
    expect(first.body.nextCursor).toBeNull();
    const plan = first.body.plans.find((p: { nhsNumber: string }) => p.nhsNumber === testNhsNumber(61_000));
    const single = await get(`/v1/councils/${OWN}/plans/${plan.nhsNumber}/${plan.planType}`);
    expect(single.body).toEqual(plan);
  });

  it('a cursor resumes after a plan removed since, and a page that finds few plans within its reads still leads on', async () => {
    const firstPage = await get(`/v1/councils/${OWN}/plans?status=all&limit=5`);
    const last = firstPage.body.plans.at(-1);
    const removed = await service.request(
      'DELETE',
      `/v1/councils/${OWN}/plans/${last.nhsNumber}/${last.planType}`,
      {
        token: await tokens.council(OWN),
      },
    );
    expect(removed.status).toBe(204);
    const next = await get(
      `/v1/councils/${OWN}/plans?status=all&limit=5&cursor=${firstPage.body.nextCursor}`,
    );
    expect(next.status).toBe(200);
    expect(next.body.plans[0]).not.toEqual(last);
    expect(key(next.body.plans[0]) > key(last)).toBe(true);
    const gone = seeded.findIndex((plan) => key(plan) === key(last));
    if (gone >= 0) seeded.splice(gone, 1);

    // Through the repository with a read budget of 4 index items a page: open plans are sparse, so some
    // pages come back short (or empty) with a cursor, and together they still hold each open plan once.
    const store = await serviceStore(service);
    const listed: string[] = [];
    let after: string | undefined;
    let shortPages = 0;
    do {
      const page = await store.plans.pageCouncilPlans(OWN, {
        limit: 3,
        after,
        keep: (plan) => plan.endDate === null || plan.endDate > TODAY,
        readBudget: 4,
      });
      if (page.next && page.plans.length < 3) shortPages++;
      listed.push(...page.plans.map(key));
      after = page.next;
    } while (after);
    expect(shortPages).toBeGreaterThan(0);
    expect(listed.filter((k) => k.startsWith(PAGED))).toEqual(ours((plan) => plan.open));
  });

  it.each([
    ['status=closed', 'status'],
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=ten', 'limit'],
    ['cursor=bogus', 'cursor'],
    // Well-formed base64url of something that is no position, and of a position with an unknown type.
    [`cursor=${Buffer.from('PLAN#E09000001#CPP').toString('base64url')}`, 'cursor'],
    [`cursor=${Buffer.from('9990000018#XYZ').toString('base64url')}`, 'cursor'],
    ['cursor=%00%01', 'cursor'],
    ['colour=red', 'query'],
  ])('refuses %s with 400 VALIDATION_FAILED, naming it', async (query, field) => {
    const response = await get(`/v1/councils/${OWN}/plans?${query}`);
    expect({ status: response.status, code: response.body.error.code }).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
    });
    expect(JSON.stringify(response.body.error)).toContain(field === 'query' ? 'colour' : field);
  });
});

describe("a child's recent accesses", () => {
  const child = testNhsNumber(62_000);
  const notVisibleChild = testNhsNumber(62_100);

  beforeAll(async () => {
    await publishPlan(service, OWN, child, 'CPP', { startDate: '2026-01-01' });
    // OTHER's plan for the child ended long ago: it is no longer visible, so OTHER may not read.
    await publishPlan(service, OTHER, child, 'LAC', { startDate: '2024-01-01', endDate: '2025-01-01' });
    await publishPlan(service, OWN, notVisibleChild, 'CPP', {
      startDate: '2024-01-01',
      endDate: '2025-01-01',
    });
    for (const [sub, org] of [
      ['u7', 'RYY02'],
      ['u8', 'RXX01'],
      ['u9', 'RZZ03'],
    ] as const) {
      expect((await lookupChild(service, child, ['B0107'], { sub, org })).status).toBe(200);
    }
    await service.takeMessages(OWN);
  });

  it('the council holding a visible plan sees exactly the list a clinician sees, audited, with no message sent', async () => {
    const read = await get(`/v1/councils/${OWN}/children/${child}/accesses`);
    expect(read.status).toBe(200);
    expect(read.body.previousAccesses.map((access: { userId: string }) => access.userId)).toEqual([
      'u9',
      'u8',
      'u7',
    ]);
    // A silent lookup shows the list and adds nothing to it.
    const clinician = await lookupChild(service, child, ['B0170']);
    expect(read.body).toEqual({ nhsNumber: child, previousAccesses: clinician.body.previousAccesses });

    expect(await service.takeMessages(OWN)).toEqual([]);
    expect(await service.takeMessages(OTHER)).toEqual([]);
    const viewed = (await auditOf(child)).filter((event) => event.action === 'COUNCIL_VIEWED_ACCESSES');
    expect(viewed).toEqual([
      expect.objectContaining({
        outcome: 'FOUND',
        councilCode: OWN,
        actor: expect.objectContaining({ org: OWN }),
      }),
    ]);
  });

  it('a council without a visible plan is refused 403 and the refusal is audited; a malformed number is 400', async () => {
    const before = (await auditOf(child)).filter((event) => event.action === 'ACCESS_DENIED').length;
    const refused = await get(`/v1/councils/${OTHER}/children/${child}/accesses`, OTHER);
    expect({ status: refused.status, code: refused.body.error.code }).toEqual({
      status: 403,
      code: 'FORBIDDEN',
    });
    expect(refused.body.error.message).not.toContain('u7');
    const denials = (await auditOf(child)).filter((event) => event.action === 'ACCESS_DENIED');
    expect(denials.length).toBe(before + 1);
    expect(denials[0]).toMatchObject({ outcome: 'DENIED', councilCode: OTHER, actor: { org: OTHER } });

    // A plan no longer visible, and no plan at all, are refused alike.
    for (const nhsNumber of [notVisibleChild, testNhsNumber(62_200)]) {
      const response = await get(`/v1/councils/${OWN}/children/${nhsNumber}/accesses`);
      expect(response.status).toBe(403);
      expect((await auditOf(nhsNumber)).map((event) => event.action)).toContain('ACCESS_DENIED');
    }
    const malformed = await get(`/v1/councils/${OWN}/children/9990000017/accesses`);
    expect({ status: malformed.status, code: malformed.body.error.code }).toEqual({
      status: 400,
      code: 'INVALID_NHS_NUMBER',
    });
    // The permission is checked before the input: a stray query parameter is still a 403 without a plan.
    const stray = await get(`/v1/councils/${OTHER}/children/${child}/accesses?x=1`, OTHER);
    expect(stray.status).toBe(403);
    expect(
      (await auditOf(child)).filter(
        (event) => event.action === 'COUNCIL_VIEWED_ACCESSES' && event.councilCode === OTHER,
      ),
    ).toEqual([]);
  });

  it('through a superseded number, the replacement is read and both numbers audit the read', async () => {
    const replacement = testNhsNumber(62_300);
    const moved = await service.request('POST', `/v1/nhs-numbers/${child}/superseded-by/${replacement}`, {
      token: await tokens.demographics(),
    });
    expect(moved.status).toBe(200);
    await service.takeMessages(OWN);
    const read = await get(`/v1/councils/${OWN}/children/${child}/accesses`);
    expect(read.body.supersededBy).toBe(replacement);
    const clinician = await lookupChild(service, replacement, ['B0170']);
    expect(read.body.previousAccesses).toEqual(clinician.body.previousAccesses);
    expect(read.body.previousAccesses).toHaveLength(3);
    for (const nhsNumber of [child, replacement])
      expect((await auditOf(nhsNumber)).map((event) => event.action)).toContain('COUNCIL_VIEWED_ACCESSES');
    expect(await service.takeMessages(OWN)).toEqual([]);
  });
});
