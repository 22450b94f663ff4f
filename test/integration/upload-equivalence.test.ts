/**
 * Issue 24, acceptance 2: an upload writing many rows per transaction answers, audits and stores
 * exactly what the one-row-per-transaction path does. The same mixed file (every row code, snapshot
 * ENDED rows, then the same file again as a delta) goes to two services on their own tables with the
 * same seeds, one with UPLOAD_ROWS_PER_TRANSACTION=1 and one with the default; each service's
 * functions are loaded afresh, as at a cold start, so each reads its own setting.
 */
import { jest } from '@jest/globals';
import type { StoreContext } from '../../functions/store';
import { testNhsNumber, tokens } from '../../testkit';
import type { TestService } from './harness';

const COUNCIL = 'E09000001';
const TODAY = '2026-11-25';

const n = (seed: number) => testNhsNumber(950_000 + seed * 10);
const SUPERSEDED = n(1);
const REPLACEMENT = n(2);
const SENSITIVE = n(3);
const SENSITIVE_HELD = n(4);
const TO_UPDATE = n(5);
const TO_END = n(6);
const SAME = n(7);
const ENDED_BY_SNAPSHOT = [n(8), n(9), n(10)];
const SHARED = n(11);

/** The file: every row code, rows sharing a number, and enough new plans for several transactions. */
const ROWS = [
  `${TO_UPDATE},CPP,2025-02-01,`, // UPDATED (start date)
  `${TO_END},LAC,2025-01-01,2026-10-31`, // UPDATED (ended: PLAN_ENDED)
  `${SAME},CPP,2025-01-01,`, // UNCHANGED
  `${SUPERSEDED},CPP,2026-01-01,`, // NHS_NUMBER_SUPERSEDED
  `${SENSITIVE},CPP,2026-01-01,`, // SENSITIVE_RECORD
  `${SENSITIVE_HELD},CPP,2025-03-01,`, // UPDATED: a plan already held stays updatable
  `${SHARED},CPP,2026-01-01,`, // CREATED, sharing the number's status check with the next two
  `${SHARED},LAC,2025-01-01,2026-06-30`, // UPDATED
  `${SHARED},UCPP,2026-02-01,`, // CREATED
  `${TO_UPDATE},CPP,2025-03-01,`, // DUPLICATE_ROW
  '9990000017,CPP,2026-01-01,', // INVALID_NHS_NUMBER
  `${n(20)},XYZ,2026-01-01,`, // INVALID_PLAN_TYPE
  `${n(21)},CPP,2026-02-30,`, // INVALID_DATE
  `${n(22)},CPP,2026-03-01,2026-02-01`, // END_BEFORE_START
  `${n(23)},CPP,2026-12-01,`, // START_IN_FUTURE
  `${n(24)},CPP,2026-01-01`, // INVALID_RECORD (three cells)
  `${n(25)},,2026-01-01,`, // INVALID_RECORD (no plan type)
  ...Array.from(
    { length: 80 },
    (_, i) => `${n(100 + i)},${['CPP', 'LAC', 'UCPP'][i % 3]},2026-0${1 + (i % 9)}-15,`,
  ),
];
const CSV = ['nhsNumber,planType,startDate,endDate', ...ROWS].join('\n');

interface Run {
  responses: unknown[];
  audit: string[];
  table: string[];
  messages: unknown[][];
  transactions: number;
}

/** ULIDs and ISO times (ids and write times differ between runs), replaced by placeholders. */
const normalise = (value: unknown) =>
  JSON.stringify(value)
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, '<time>')
    .replace(/\b[0-9A-HJKMNP-TV-Z]{26}\b/g, '<id>');

/** One service with its own table, its functions freshly loaded under `rowsPerTransaction`. */
async function runOn(rowsPerTransaction: string | undefined): Promise<Run> {
  if (rowsPerTransaction === undefined) delete process.env.UPLOAD_ROWS_PER_TRANSACTION;
  else process.env.UPLOAD_ROWS_PER_TRANSACTION = rowsPerTransaction;
  jest.resetModules();
  const harness = await import('./harness');
  const { clock } = await import('../../functions/core/clock');
  clock.now = () => new Date(`${TODAY}T12:00:00Z`);
  const service: TestService = await harness.startTestService({ tablePrefix: 'equivalence' });
  try {
    expect((await harness.registerCouncil(service, COUNCIL)).status).toBe(200);
    const seeds: [string, string, object][] = [
      [TO_UPDATE, 'CPP', { startDate: '2025-01-01' }],
      [TO_END, 'LAC', { startDate: '2025-01-01' }],
      [SAME, 'CPP', { startDate: '2025-01-01' }],
      [SENSITIVE_HELD, 'CPP', { startDate: '2025-01-01' }],
      [SHARED, 'LAC', { startDate: '2025-01-01' }],
      ...ENDED_BY_SNAPSHOT.map((nhsNumber): [string, string, object] => [
        nhsNumber,
        'CPP',
        { startDate: '2025-05-01' },
      ]),
    ];
    for (const [nhsNumber, planType, body] of seeds) {
      expect((await harness.publishPlan(service, COUNCIL, nhsNumber, planType, body)).status).toBeLessThan(
        300,
      );
    }
    const supersede = await service.request(
      'POST',
      `/v1/nhs-numbers/${SUPERSEDED}/superseded-by/${REPLACEMENT}`,
      {
        token: await tokens.demographics(),
      },
    );
    expect(supersede.status).toBe(200);
    await harness.flagSensitive(service, SENSITIVE);
    await harness.flagSensitive(service, SENSITIVE_HELD);
    // Whatever the seeds sent is taken now: the queues then hold only what the uploads send.
    await service.takeMessages(COUNCIL);

    // The client this service's functions share (the one its repositories hold): its transactions are counted.
    const { store } = await import('../../functions/api-wiring');
    const { client } = (store().plans as unknown as { store: StoreContext }).store;
    let transactions = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'TransactWriteItemsCommand') transactions++;
        return next(args);
      },
      { step: 'initialize', name: 'countTransactions' },
    );

    const responses = [];
    for (const query of ['?mode=snapshot&force=true', '?mode=delta']) {
      const response = await service.request('POST', `/v1/councils/${COUNCIL}/uploads${query}`, {
        token: await tokens.council(COUNCIL),
        rawBody: CSV,
        contentType: 'text/csv',
      });
      expect(response.status).toBe(200);
      responses.push({ ...response.body, uploadId: '<id>' });
    }
    const items = await service.scanTable();
    const messages = [
      await service.takeMessages(COUNCIL),
      await service.takeMessages(COUNCIL, { deadLetter: true }),
    ];
    return {
      responses,
      audit: items
        .filter((item) => String(item.SK).startsWith('EVENT#'))
        .map(normalise)
        .sort(),
      table: items.map(normalise).sort(),
      messages,
      transactions,
    };
  } finally {
    await service.close();
  }
}

afterAll(() => {
  delete process.env.UPLOAD_ROWS_PER_TRANSACTION;
});

it('answers, audits and stores the same with one row per transaction as with many', async () => {
  const single = await runOn('1');
  const grouped = await runOn(undefined);

  expect(grouped.responses).toEqual(single.responses);
  expect(grouped.audit).toEqual(single.audit);
  expect(grouped.table).toEqual(single.table);
  expect(single.messages).toEqual([[], []]);
  expect(grouped.messages).toEqual([[], []]);
  // The setting took effect: many rows share each transaction on the default path.
  expect(single.transactions).toBeGreaterThan(80);
  expect(grouped.transactions).toBeLessThan(single.transactions / 10);

  // The file covers every outcome and row code, and the snapshot ended the plans it did not name.
  const [snapshot, delta] = single.responses as { results: { outcome: string; code?: string }[] }[];
  const kinds = (response?: { results: { outcome: string; code?: string }[] }) =>
    [...new Set(response?.results.map((row) => row.code ?? row.outcome))].sort();
  expect(kinds(snapshot)).toEqual(
    [
      'CREATED',
      'UPDATED',
      'UNCHANGED',
      'ENDED',
      'DUPLICATE_ROW',
      'NHS_NUMBER_SUPERSEDED',
      'SENSITIVE_RECORD',
      'INVALID_NHS_NUMBER',
      'INVALID_PLAN_TYPE',
      'INVALID_DATE',
      'END_BEFORE_START',
      'START_IN_FUTURE',
      'INVALID_RECORD',
    ].sort(),
  );
  expect(snapshot?.results.filter((row) => row.outcome === 'ENDED')).toHaveLength(ENDED_BY_SNAPSHOT.length);
  expect(delta?.results.filter((row) => row.outcome === 'CREATED' || row.outcome === 'UPDATED')).toEqual([]);
  for (const action of ['PLAN_CREATED', 'PLAN_UPDATED', 'PLAN_ENDED', 'PLAN_REFUSED']) {
    expect(single.audit.some((event) => event.includes(`"action":"${action}"`))).toBe(true);
  }
});
