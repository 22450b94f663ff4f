/**
 * Privacy allow-list. A scenario that calls every route (successes, refusals and errors, with a child's
 * name and date of birth slipped into requests the way a careless client might), with notifications
 * dispatched. Then: every item the table holds has only attributes on an explicit allow-list for its
 * kind, and no child's name or date of birth anywhere; and all log output of the run holds no NHS
 * number, no person's name and no piece of a token.
 */
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { type Caller, tokenFor } from '../../../testkit';
import { registerCouncil, testNhsNumber } from '../harness';
import { type ReliabilityService, reliabilityRecorder, startReliabilityService } from './support';

const record = reliabilityRecorder('privacy');

/** Everything the logger writes, at the most verbose level. */
process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';

const CHILD_NAME = 'Amelia Testchild';
const CHILD_DOB = '2014-02-03';
const CLINICIAN = 'Dr Grace Hopper';
const SILENT_CLINICIAN = 'Dr Mary Seacole';
const COUNCIL = 'E09000001';
const OTHER = 'E08000025';

/** Attribute names each kind of item may hold; nested maps name their own. */
const ALLOWED: Record<string, string[]> = {
  PLAN: [
    'PK',
    'SK',
    'kind',
    'nhsNumber',
    'planType',
    'councilCode',
    'startDate',
    'endDate',
    'version',
    'updatedAt',
    // When the plan can no longer be visible: the table's time to live.
    'expiresAt',
    'GSI1PK',
    'GSI1SK',
  ],
  AUDIT: [
    'PK',
    'SK',
    'kind',
    'eventId',
    'at',
    'action',
    'outcome',
    'actor',
    'planType',
    'councilCode',
    'setting',
    // The viewer's job role and organisation name, shown in access histories.
    'roleName',
    'organisationName',
    // A superseded number's access carried onto its replacement.
    'carriedFrom',
    // A coalesced refusal (ACCESS_DENIED): how many, and the last one's time.
    'count',
    'lastAt',
    'notifies',
    'messages',
  ],
  'AUDIT.actor': ['sub', 'name', 'org', 'role'],
  'AUDIT.messages': [
    'type',
    'eventId',
    'occurredAt',
    'councilCode',
    'nhsNumber',
    'planTypes',
    'accessedBy',
    'oldNhsNumber',
    'newNhsNumber',
  ],
  'AUDIT.messages.accessedBy': [
    'userId',
    'userName',
    'roleName',
    'organisation',
    'organisationName',
    'setting',
  ],
  COUNCIL: [
    'PK',
    'SK',
    'kind',
    'code',
    'name',
    'officeHoursPhone',
    'emergencyDutyPhone',
    'updatedAt',
    'GSI1PK',
    'GSI1SK',
  ],
  STATUS: ['PK', 'SK', 'kind', 'sensitive', 'newNhsNumber', 'replaces', 'updatedAt'],
};

/** Attributes outside the allow-list, as paths like `AUDIT.messages.childName`. */
function outsideAllowList(item: Record<string, unknown>): string[] {
  const kind = String(item.kind);
  if (!ALLOWED[kind]) return [`${kind} (an item kind not on the list)`];
  const problems: string[] = [];
  const check = (value: Record<string, unknown>, path: string) => {
    for (const [name, nested] of Object.entries(value)) {
      const inner = `${path}.${name}`;
      // A list is checked element by element, as the maps it holds (lists of strings are values).
      const maps = (Array.isArray(nested) ? nested : [nested]).filter(
        (element) => element && typeof element === 'object' && !(element instanceof Set),
      );
      if (!ALLOWED[path]?.includes(name)) problems.push(inner);
      else if (maps.length > 0 && !ALLOWED[inner]) problems.push(`${inner} (a map with no allow-list)`);
      else for (const map of maps) check(map as Record<string, unknown>, inner);
    }
  };
  check(item, kind);
  return problems;
}

let service: ReliabilityService;
const logs: string[] = [];
const runtimeErrors: unknown[] = [];
const tokensUsed: string[] = [];
const numbersUsed: string[] = [];
let restore: (() => void) | undefined;

/** Captures every write to stdout and stderr, and the logger's own console, from here on. */
async function captureLogs(): Promise<() => void> {
  const streams = [process.stdout, process.stderr] as const;
  const writes = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array) => {
      logs.push(String(chunk));
      return true;
    }) as typeof stream.write;
  }
  const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
  const originals = methods.map((method) => console[method]);
  for (const method of methods)
    console[method] = (...args: unknown[]) => logs.push(args.map(String).join(' '));
  // The service's logger, whatever stream its console was bound to.
  const { logger } = await import('../../../functions/observability');
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const holder = logger as unknown as { console: Console };
  const loggerConsole = holder.console;
  holder.console = new Console({ stdout: sink, stderr: sink });
  return () => {
    streams.forEach((stream, i) => {
      stream.write = writes[i] as typeof stream.write;
    });
    methods.forEach((method, i) => {
      console[method] = originals[i] as (typeof console)[typeof method];
    });
    holder.console = loggerConsole;
  };
}

async function sign(claims: Caller) {
  const token = await tokenFor(claims);
  tokensUsed.push(token);
  return token;
}

beforeAll(async () => {
  service = await startReliabilityService({ onError: (error) => runtimeErrors.push(error) });
  restore = await captureLogs();
}, 60_000);

afterAll(async () => {
  restore?.();
  await service?.close();
});

describe('privacy', () => {
  it('after a scenario over every route, the table holds only allow-listed attributes and the logs hold no NHS number, name or token', async () => {
    const child = testNhsNumber(97_000);
    const sibling = testNhsNumber(97_010);
    const moved = testNhsNumber(97_020);
    const replacement = testNhsNumber(97_030);
    const flagged = testNhsNumber(97_040);
    const nobody = testNhsNumber(97_050);
    const uploaded = [testNhsNumber(97_060), testNhsNumber(97_070), testNhsNumber(97_080)];
    numbersUsed.push(child, sibling, moved, replacement, flagged, nobody, ...uploaded);

    const council = await sign({
      sub: 'la-system',
      name: 'Example case system',
      org: COUNCIL,
      role: 'council',
    });
    const other = await sign({ sub: 'la2-system', name: 'Other case system', org: OTHER, role: 'council' });
    const clinician = await sign({
      sub: 'u7',
      name: CLINICIAN,
      org: 'RYY02',
      role: 'clinician',
      activities: ['B0107'],
      setting: 'emergency-department',
    });
    const silent = await sign({
      sub: 'gp1',
      name: SILENT_CLINICIAN,
      org: 'RZZ03',
      role: 'clinician',
      activities: ['B0170'],
    });
    const auditor = await sign({ sub: 'ig1', name: 'Information Governance', org: 'X26', role: 'auditor' });
    const demographics = await sign({
      sub: 'pds',
      name: 'Demographics feed',
      org: 'X09',
      role: 'demographics',
    });
    const statuses: number[] = [];
    const call = async (
      method: string,
      path: string,
      token: string | undefined,
      body?: unknown,
      extra = {},
    ) => {
      const response = await service.request(method, path, { token, body, ...extra });
      statuses.push(response.status);
      return response;
    };

    // Councils, plans (created, updated, ended, refused), uploads with a child's name and birth date.
    await registerCouncil(service, COUNCIL);
    await registerCouncil(service, OTHER);
    await call('PUT', `/v1/councils/${COUNCIL}`, council, {
      name: 'London Borough of Example',
      emergencyDutyPhone: '020 7946 0999',
    });
    const plan = `/v1/councils/${COUNCIL}/plans/${child}/CPP`;
    await call('PUT', plan, council, { startDate: '2026-01-01' });
    const updated = await call('PUT', plan, council, { startDate: '2026-01-02' });
    await call(
      'PUT',
      plan,
      council,
      { startDate: '2026-01-02', endDate: '2026-12-31' },
      { headers: { 'If-Match': updated.body.etag ?? '"2"' } },
    );
    await call('PUT', plan, council, { startDate: '2026-01-02', name: CHILD_NAME, dateOfBirth: CHILD_DOB });
    await call('PUT', `/v1/councils/${OTHER}/plans/${child}/LAC`, other, { startDate: '2026-02-01' });
    await call('PUT', `/v1/councils/${COUNCIL}/plans/${sibling}/UCPP`, council, { startDate: '2026-03-01' });
    await call('PUT', `/v1/councils/${COUNCIL}/plans/${moved}/CPP`, council, { startDate: '2026-03-01' });
    await call('POST', `/v1/councils/${COUNCIL}/uploads?mode=delta`, council, {
      records: [
        { nhsNumber: uploaded[0], planType: 'CPP', startDate: '2026-01-01' },
        {
          nhsNumber: uploaded[1],
          planType: 'LAC',
          startDate: '2026-01-01',
          name: CHILD_NAME,
          dateOfBirth: CHILD_DOB,
        },
        { nhsNumber: uploaded[2], planType: 'CPP', startDate: '2026-01-05', endDate: '2026-01-01' },
      ],
    });
    await call('POST', `/v1/councils/${COUNCIL}/uploads?mode=delta`, council, undefined, {
      rawBody: `nhsNumber,planType,startDate,endDate\n${uploaded[1]},LAC,2026-01-01,\n${CHILD_NAME},CPP,${CHILD_DOB},\n`,
      contentType: 'text/csv',
    });
    await call('POST', `/v1/councils/${COUNCIL}/uploads?mode=snapshot&force=true`, council, {
      records: [{ nhsNumber: child, planType: 'CPP', startDate: '2026-01-02', endDate: '2026-12-31' }],
    });

    // Demographics: a flag, a refused publish on it, a supersession.
    await call('PUT', `/v1/nhs-numbers/${flagged}/sensitivity`, demographics, { sensitive: true });
    await call('PUT', `/v1/councils/${COUNCIL}/plans/${flagged}/CPP`, council, { startDate: '2026-01-01' });
    await call('POST', `/v1/nhs-numbers/${moved}/superseded-by/${replacement}`, demographics);
    await call('PUT', `/v1/councils/${COUNCIL}/plans/${moved}/LAC`, council, { startDate: '2026-01-01' });

    // Lookups: notifying, silent, nothing found, superseded, refused.
    await call('GET', `/v1/children/${child}`, clinician);
    await call('GET', `/v1/children/${child}`, clinician);
    await call('GET', `/v1/children/${sibling}`, silent);
    await call('GET', `/v1/children/${nobody}`, clinician);
    await call('GET', `/v1/children/${moved}`, clinician);
    await call('GET', `/v1/children/${child}`, council);

    // Audit, paged; a plan removed; errors of every kind.
    const page = await call('GET', `/v1/audit/children/${child}?limit=1`, auditor);
    await call('GET', `/v1/audit/children/${child}?limit=1&cursor=${page.body.nextCursor}`, auditor);
    await call('DELETE', `/v1/councils/${COUNCIL}/plans/${sibling}/UCPP`, council);
    await call('DELETE', `/v1/councils/${COUNCIL}/plans/${sibling}/UCPP`, council);
    await call('GET', `/v1/children/${child}`, `${clinician.slice(0, -4)}AAAA`);
    await call('GET', `/v1/children/${child}`, undefined);
    await call('GET', `/v1/children/${child.slice(0, 9)}7`, clinician);
    await call('PATCH', `/v1/children/${child}`, clinician);
    await call('GET', `/v1/nothing/${child}`, clinician);
    await call('PUT', plan, council, undefined, {
      rawBody: `{"startDate":"${CHILD_DOB}","x":"${'y'.repeat(20_000)}"}`,
    });
    await call('PUT', plan, council, undefined, { rawBody: `name=${CHILD_NAME}`, contentType: 'text/plain' });

    // Notifications reach the councils.
    await service.drained();
    const notified = [
      ...(await service.receiveAll(service.councilQueue(COUNCIL))),
      ...(await service.receiveAll(service.councilQueue(OTHER))),
    ];
    expect(notified.length).toBeGreaterThan(0);
    restore?.();
    restore = undefined;

    // The scenario did what it meant to: every route answered, with successes and refusals.
    expect(statuses.filter((s) => s < 300).length).toBeGreaterThan(15);
    expect(new Set(statuses.filter((s) => s >= 400))).toEqual(
      new Set([400, 401, 403, 404, 405, 409, 413, 415]),
    );
    expect(runtimeErrors).toEqual([]);

    // The table: allow-listed attributes only; no child's name or birth date anywhere.
    const items = await service.scanTable();
    const kinds = new Set(items.map((item) => item.kind));
    expect(kinds).toEqual(new Set(['PLAN', 'AUDIT', 'COUNCIL', 'STATUS']));
    // Audit events carrying council messages are among them, so the messages' allow-list was applied.
    expect(items.filter((item) => Array.isArray(item.messages)).length).toBeGreaterThan(0);
    expect(items.flatMap(outsideAllowList)).toEqual([]);
    const stored = JSON.stringify(items);
    expect({ childName: stored.includes(CHILD_NAME), dateOfBirth: stored.includes(CHILD_DOB) }).toEqual({
      childName: false,
      dateOfBirth: false,
    });

    // The logs: captured (so the check is not vacuous), and free of NHS numbers, names and tokens.
    const text = logs.join('\n');
    expect(text).toContain('Request served');
    expect(text).toContain('Council notified');
    expect(text).toContain('Request refused');
    const leaks: string[] = [];
    for (const nhsNumber of numbersUsed) if (text.includes(nhsNumber)) leaks.push(`NHS number ${nhsNumber}`);
    if (/\b999\d{7}\b/.test(text)) leaks.push('a 999 test NHS number');
    for (const name of [
      CHILD_NAME,
      CHILD_DOB,
      CLINICIAN,
      SILENT_CLINICIAN,
      'Lovelace',
      'Hopper',
      'Seacole',
    ]) {
      if (text.includes(name)) leaks.push(name);
    }
    for (const token of tokensUsed) {
      for (const part of token.split('.')) {
        for (let i = 0; i + 16 <= part.length; i += 16) {
          if (text.includes(part.slice(i, i + 16))) {
            leaks.push(`a piece of a token: ${part.slice(i, i + 16)}`);
            break;
          }
        }
      }
    }
    if (/Bearer|eyJ[A-Za-z0-9_-]{10,}/.test(text)) leaks.push('a bearer token');
    expect(leaks).toEqual([]);

    record('scenario', {
      guarantee: 'Privacy allow-list',
      test: 'scenario over every route: table items only allow-listed attributes, no child name or birth date; logs hold no NHS number, name or token',
      inputs: statuses.length,
      faultsInjected: 0,
      outcomes: {
        'table items checked': items.length,
        'item kinds': kinds.size,
        'attributes outside the allow-list': 0,
        'log lines captured': text.split('\n').filter(Boolean).length,
        'NHS numbers, names or token pieces found in logs': 0,
        'notifications delivered': notified.length,
      },
    });
  }, 60_000);
});
