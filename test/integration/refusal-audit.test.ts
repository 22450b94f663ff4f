/**
 * What a caller learns about a number's state leaves a trace under that number: a plan write or upload
 * row refused because the number is flagged sensitive or superseded (PLAN_REFUSED), and every row of a
 * dry-run upload (UPLOAD_CHECKED). A council's registration and its changes are audited under the
 * council, and auditors can read them.
 */
import { clock } from '../../functions/core/clock';
import {
  flagSensitive,
  publishPlan,
  registerCouncil,
  testNhsNumber,
  tokens,
  useTestService,
} from './harness';

const COUNCIL = 'E09000001';
const service = useTestService([COUNCIL]);

const auditOf = async (nhsNumber: string) =>
  (
    await service.request('GET', `/v1/audit/children/${nhsNumber}?limit=200`, {
      token: await tokens.auditor(),
    })
  ).body.events as { action: string; outcome: string; planType?: string; councilCode?: string }[];

const upload = async (csvRows: string[], query: string) =>
  service.request('POST', `/v1/councils/${COUNCIL}/uploads?${query}`, {
    token: await tokens.council(COUNCIL),
    rawBody: ['nhsNumber,planType,startDate,endDate', ...csvRows].join('\n'),
    contentType: 'text/csv',
  });

describe('refusals for a number state', () => {
  it('audits a PUT refused for a sensitive number, and one refused for a superseded number, once each', async () => {
    const [flagged, old, replacement] = [7100, 7110, 7120].map(testNhsNumber) as [string, string, string];
    await flagSensitive(service, flagged);
    const refused = await publishPlan(service, COUNCIL, flagged, 'CPP', { startDate: '2026-01-01' });
    expect(refused.body.error.code).toBe('SENSITIVE_RECORD');
    expect(await auditOf(flagged)).toEqual([
      expect.objectContaining({
        action: 'PLAN_REFUSED',
        outcome: 'DENIED',
        planType: 'CPP',
        councilCode: COUNCIL,
      }),
      expect.objectContaining({ action: 'SENSITIVITY_CHANGED' }),
    ]);

    await service.request('POST', `/v1/nhs-numbers/${old}/superseded-by/${replacement}`, {
      token: await tokens.demographics(),
    });
    const superseded = await publishPlan(service, COUNCIL, old, 'LAC', { startDate: '2026-01-01' });
    expect(superseded.body.error.message).toContain(replacement);
    const events = await auditOf(old);
    expect(events.filter((event) => event.action === 'PLAN_REFUSED')).toEqual([
      expect.objectContaining({ outcome: 'DENIED', planType: 'LAC', councilCode: COUNCIL }),
    ]);
  });

  it('audits each upload row refused for its number state, and nothing for rows refused for their form', async () => {
    const [flagged, fine] = [7200, 7210].map(testNhsNumber) as [string, string];
    await flagSensitive(service, flagged);
    const response = await upload(
      [`${flagged},CPP,2026-01-01,`, `${fine},CPP,2026-01-01,`, `${fine},XYZ,2026-01-01,`],
      'mode=delta',
    );
    expect(response.body.results.map((row: { outcome: string }) => row.outcome)).toEqual([
      'REJECTED',
      'CREATED',
      'REJECTED',
    ]);
    expect((await auditOf(flagged)).map((event) => event.action)).toEqual([
      'PLAN_REFUSED',
      'SENSITIVITY_CHANGED',
    ]);
    expect((await auditOf(fine)).map((event) => event.action)).toEqual(['PLAN_CREATED']);
  });

  it('audits every row of a dry run under the number it names, and writes nothing else', async () => {
    const [a, b] = [7300, 7310].map(testNhsNumber) as [string, string];
    await flagSensitive(service, b);
    const before = await service.scanTable();
    const response = await upload(
      [`${a},CPP,2026-01-01,`, `${a},LAC,2026-01-01,`, `${b},UCPP,2026-01-01,`, '9990000017,CPP,2026-01-01,'],
      'mode=delta&dryRun=true',
    );
    expect(response.status).toBe(200);
    const added = (await service.scanTable()).filter(
      (item) => !before.some((old) => old.PK === item.PK && old.SK === item.SK),
    );
    // One event per row naming a valid number (the last row's number is not one): no plan, no other item.
    expect(added.map((item) => [item.PK, item.action, item.outcome, item.planType]).sort()).toEqual([
      [`AUDIT#${a}`, 'UPLOAD_CHECKED', 'CHECKED', 'CPP'],
      [`AUDIT#${a}`, 'UPLOAD_CHECKED', 'CHECKED', 'LAC'],
      [`AUDIT#${b}`, 'UPLOAD_CHECKED', 'CHECKED', 'UCPP'],
    ]);
  });
});

describe('refused calls cannot flood the trail', () => {
  it('coalesces 50 refusals of one caller for one number within a minute into one event with count 50', async () => {
    const child = testNhsNumber(7400);
    const realNow = clock.now;
    const stranger = await tokens.council('E08000025');
    const another = await tokens.council('E08000025', { sub: 'another-system' });
    try {
      // Within one minute (the clock the functions read is held there), then the next minute.
      clock.now = () => new Date('2026-11-20T10:00:10.000Z');
      for (let i = 0; i < 50; i++) {
        const refused = await service.request('DELETE', `/v1/councils/${COUNCIL}/plans/${child}/CPP`, {
          token: stranger,
        });
        expect(refused.status).toBe(403);
      }
      await service.request('DELETE', `/v1/councils/${COUNCIL}/plans/${child}/CPP`, { token: another });
      clock.now = () => new Date('2026-11-20T10:01:05.000Z');
      await service.request('DELETE', `/v1/councils/${COUNCIL}/plans/${child}/CPP`, { token: stranger });
    } finally {
      clock.now = realNow;
    }
    const events = (await auditOf(child)) as unknown as {
      action: string;
      count?: number;
      actor: { sub: string };
    }[];
    expect(events.map((event) => [event.action, event.actor.sub, event.count])).toEqual([
      ['ACCESS_DENIED', 'E08000025-system', 1],
      expect.arrayContaining(['ACCESS_DENIED']),
      expect.arrayContaining(['ACCESS_DENIED']),
    ]);
    const firstMinute = events
      .slice(1)
      .map((event) => [event.actor.sub, event.count])
      .sort();
    expect(firstMinute).toEqual([
      ['E08000025-system', 50],
      ['another-system', 1],
    ]);
    // Three items in all for 52 refusals.
    expect((await service.scanTable()).filter((item) => item.PK === `REFUSALS#${child}`)).toHaveLength(3);
  });
});

describe("a council's own audit trail", () => {
  it('shows auditors its registration and each change, newest first, and refuses anyone else', async () => {
    const code = 'E06000047';
    await registerCouncil(service, code);
    await registerCouncil(service, code); // the same again: no event
    await registerCouncil(service, code, {
      name: 'County Durham Council',
      officeHoursPhone: '03000 267 979',
      emergencyDutyPhone: '03000 267 979',
    });
    const trail = await service.request('GET', `/v1/audit/councils/${code}`, {
      token: await tokens.auditor(),
    });
    expect(trail.status).toBe(200);
    expect(trail.body.events.map((event: { action: string }) => event.action)).toEqual([
      'COUNCIL_UPDATED',
      'COUNCIL_REGISTERED',
    ]);
    expect(trail.body.events[1]).toMatchObject({ councilCode: code, outcome: 'SUCCESS' });
    const byCouncil = await service.request('GET', `/v1/audit/councils/${code}`, {
      token: await tokens.council(code),
    });
    expect(byCouncil.status).toBe(403);
  });
});
