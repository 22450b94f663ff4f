import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { clock } from '../../functions/core/clock';
import { publishPlan, testNhsNumber, tokens, useTestService } from './harness';

const realNow = clock.now;
const TODAY = '2026-11-25';

const service = useTestService(['E09000001', 'E08000025', 'E06000010', 'E06000011', 'E06000012']);
beforeEach(() => {
  clock.now = () => new Date(`${TODAY}T12:00:00Z`);
});
afterEach(() => {
  clock.now = realNow;
});

const upload = async (council: string, body: unknown, query = '', contentType = 'application/json') =>
  service.request('POST', `/v1/councils/${council}/uploads${query}`, {
    token: await tokens.council(council),
    ...(typeof body === 'string' ? { rawBody: body, contentType } : { body }),
  });

const plansOf = async (council: string) =>
  (await service.scanTable())
    .filter((item) => item.kind === 'PLAN' && item.councilCode === council)
    .map((item) => `${item.nhsNumber}|${item.planType}|${item.startDate}|${item.endDate ?? ''}`)
    .sort();

describe('a mixed file of 1,000 rows', () => {
  it('gets exactly the expected outcome per row, and the table holds exactly the accepted plans', async () => {
    const council = 'E09000001';
    const superseded = testNhsNumber(900_001);
    const sensitive = testNhsNumber(900_101);
    const demographics = await tokens.demographics();
    expect(
      (
        await service.request(
          'POST',
          `/v1/nhs-numbers/${superseded}/superseded-by/${testNhsNumber(900_002)}`,
          { token: demographics },
        )
      ).status,
    ).toBe(200);
    expect(
      (
        await service.request('PUT', `/v1/nhs-numbers/${sensitive}/sensitivity`, {
          token: demographics,
          body: { sensitive: true },
        })
      ).status,
    ).toBe(200);

    const records: Record<string, unknown>[] = [];
    const expected: { outcome: string; code?: string }[] = [];
    const accepted = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const nhsNumber = testNhsNumber(10_000 + i * 3);
      const category = i % 10;
      const good = { nhsNumber, planType: 'CPP', startDate: '2026-01-01', endDate: null };
      if (category === 0) {
        records.push({ ...good, nhsNumber: `${nhsNumber.slice(0, 9)}${(Number(nhsNumber[9]) + 1) % 10}` });
        expected.push({ outcome: 'REJECTED', code: 'INVALID_NHS_NUMBER' });
      } else if (category === 1) {
        records.push({ ...good, planType: 'CP' });
        expected.push({ outcome: 'REJECTED', code: 'INVALID_PLAN_TYPE' });
      } else if (category === 2) {
        records.push({ ...good, startDate: '2026-13-01' });
        expected.push({ outcome: 'REJECTED', code: 'INVALID_DATE' });
      } else if (category === 3) {
        records.push({ ...good, endDate: '2025-12-31' });
        expected.push({ outcome: 'REJECTED', code: 'END_BEFORE_START' });
      } else if (category === 4) {
        records.push({ ...good, startDate: '2026-11-26' });
        expected.push({ outcome: 'REJECTED', code: 'START_IN_FUTURE' });
      } else if (category === 5) {
        // Repeats the previous row's NHS number and plan type.
        records.push({ ...(records[i - 1] as object) });
        expected.push({ outcome: 'REJECTED', code: 'DUPLICATE_ROW' });
      } else if (category === 6 && i % 20 === 6) {
        records.push({ nhsNumber, planType: 'LAC' });
        expected.push({ outcome: 'REJECTED', code: 'INVALID_RECORD' });
      } else if (category === 6) {
        records.push({
          ...good,
          nhsNumber: i % 40 === 16 ? superseded : sensitive,
          planType: i % 40 === 16 ? 'CPP' : `${['LAC', 'UCPP'][i % 3 === 0 ? 0 : 1]}`,
        });
        const wasSuperseded = i % 40 === 16;
        expected.push({
          outcome: 'REJECTED',
          code: wasSuperseded ? 'NHS_NUMBER_SUPERSEDED' : 'SENSITIVE_RECORD',
        });
      } else if (category === 7) {
        await publishPlan(service, council, nhsNumber, 'LAC', { startDate: '2025-06-01' });
        records.push({ ...good, planType: 'LAC', startDate: '2025-06-01' });
        expected.push({ outcome: 'UNCHANGED' });
        accepted.add(`${nhsNumber}|LAC|2025-06-01|`);
      } else if (category === 8) {
        await publishPlan(service, council, nhsNumber, 'UCPP', { startDate: '2025-06-01' });
        records.push({ ...good, planType: 'UCPP', startDate: '2025-06-01', endDate: '2026-11-01' });
        expected.push({ outcome: 'UPDATED' });
        accepted.add(`${nhsNumber}|UCPP|2025-06-01|2026-11-01`);
      } else {
        records.push(good);
        expected.push({ outcome: 'CREATED' });
        accepted.add(`${nhsNumber}|CPP|2026-01-01|`);
      }
    }
    // Duplicates of rows 900..999 keep the sensitive and superseded rows unique per NHS number and type.
    const seen = new Map<string, number>();
    records.forEach((record, index) => {
      const key = `${record.nhsNumber}#${record.planType}`;
      if (expected[index]?.code === 'SENSITIVE_RECORD' || expected[index]?.code === 'NHS_NUMBER_SUPERSEDED') {
        if (seen.has(key)) expected[index] = { outcome: 'REJECTED', code: 'DUPLICATE_ROW' };
        seen.set(key, index);
      }
    });

    const queueBefore = await service.takeMessages(council);
    expect(queueBefore).toEqual([]);
    const response = await upload(council, { mode: 'delta', records });
    expect(response.status).toBe(200);
    const results = response.body.results as {
      row: number;
      outcome: string;
      code?: string;
      message?: string;
    }[];
    expect(results).toHaveLength(1000);
    expect(results.map((result) => result.row)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(
      results.map((result) => ({ outcome: result.outcome, ...(result.code ? { code: result.code } : {}) })),
    ).toEqual(expected);
    for (const result of results.filter((r) => r.outcome === 'REJECTED'))
      expect(result.message).toEqual(expect.any(String));
    expect(results.find((r) => r.code === 'NHS_NUMBER_SUPERSEDED')?.message).toContain(
      testNhsNumber(900_002),
    );

    const rejectedCount = expected.filter((e) => e.outcome === 'REJECTED').length;
    expect(response.body).toMatchObject({
      mode: 'delta',
      status: 'PARTIAL',
      accepted: 1000 - rejectedCount,
      rejected: rejectedCount,
      ended: 0,
    });
    expect(await plansOf(council)).toEqual([...accepted].sort());
    // Plan changes are not notifications: the council's queue stays empty.
    expect(await service.takeMessages(council)).toEqual([]);

    // The same file again: every row as before or UNCHANGED, and nothing written but the audit event
    // of each row refused for its number's state (PLAN_REFUSED), as the first time.
    const refusedForState = results
      .map((result, index) => ({ result, record: records[index] as { nhsNumber: string } }))
      .filter(({ result }) => result.code === 'NHS_NUMBER_SUPERSEDED' || result.code === 'SENSITIVE_RECORD')
      .map(({ record }) => [`AUDIT#${record.nhsNumber}`, 'PLAN_REFUSED'])
      .sort();
    expect(refusedForState.length).toBeGreaterThan(0);
    const before = await service.scanTable();
    const again = await upload(council, { mode: 'delta', records });
    expect(again.body.results.map((r: { outcome: string; code?: string }) => r.code ?? r.outcome)).toEqual(
      expected.map((e) => e.code ?? 'UNCHANGED'),
    );
    const after = await service.scanTable();
    const added = after.filter((item) => !before.some((old) => old.PK === item.PK && old.SK === item.SK));
    expect(added.map((item) => [item.PK, item.action]).sort()).toEqual(refusedForState);
    expect(after.filter((item) => !added.includes(item))).toEqual(before);
  }, 120_000);
});

describe('CSV uploads', () => {
  it('reads the header row and an empty endDate cell as no end date; counts rows from 1 after the header', async () => {
    const csv = readFileSync('events/plans-valid.csv', 'utf8');
    const response = await upload('E08000025', csv, '?mode=delta', 'text/csv');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'ALL_ACCEPTED', accepted: 4, rejected: 0 });
    expect(response.body.results.map((r: { row: number; outcome: string }) => [r.row, r.outcome])).toEqual([
      [1, 'CREATED'],
      [2, 'CREATED'],
      [3, 'CREATED'],
      [4, 'CREATED'],
    ]);
    expect(await plansOf('E08000025')).toEqual([
      '9990000018|CPP|2026-03-01|',
      '9990000026|LAC|2025-11-20|',
      '9990000034|UCPP|2026-08-14|',
      '9990000042|CPP|2025-01-10|2026-02-01',
    ]);
  });

  it('reports every kind of bad row in the sample mixed file', async () => {
    const csv = readFileSync('events/plans-mixed.csv', 'utf8');
    const response = await upload('E06000011', csv, '?mode=delta', 'text/csv');
    expect(response.body.results.map((r: { outcome: string; code?: string }) => r.code ?? r.outcome)).toEqual(
      [
        'CREATED',
        'INVALID_NHS_NUMBER',
        'INVALID_PLAN_TYPE',
        'INVALID_DATE',
        'END_BEFORE_START',
        'START_IN_FUTURE',
        'DUPLICATE_ROW',
        'INVALID_RECORD',
      ],
    );
    expect(response.body).toMatchObject({ status: 'PARTIAL', accepted: 1, rejected: 7 });
  });

  it('refuses a malformed file whole with one clear error and writes nothing', async () => {
    const before = await service.scanTable();
    const cases: [string, string, string, RegExp][] = [
      [
        readFileSync('events/plans-malformed.csv', 'utf8'),
        'text/csv',
        '?mode=delta',
        /first row must be exactly nhsNumber,planType,startDate,endDate/,
      ],
      [
        'nhsNumber,planType,startDate,endDate\n"9990000018,CPP,2026-01-01,\n',
        'text/csv',
        '?mode=delta',
        /CSV file cannot be read/,
      ],
      ['', 'text/csv', '?mode=delta', /needs a body/],
      ['{"mode":"delta","records":', 'application/json', '', /not valid JSON/],
      ['{"mode":"delta","rows":[]}', 'application/json', '', /records is required/],
      ['[{"nhsNumber":"9990000018"}]', 'application/json', '', /.+/],
      [
        '{"mode":"delta","records":[]}',
        'application/json',
        '?mode=snapshot',
        /mode is snapshot in the query but delta in the body/,
      ],
      ['nhsNumber,planType,startDate,endDate\n', 'text/csv', '', /mode is required/],
      ['{"records":[]}', 'application/json', '?mode=weekly', /mode must be delta or snapshot/],
    ];
    for (const [body, contentType, query, message] of cases) {
      const response = await upload('E09000001', body, query, contentType);
      expect({ status: response.status, code: response.body.error.code }).toEqual({
        status: 400,
        code: 'VALIDATION_FAILED',
      });
      expect(response.body.error.message).toMatch(message);
    }
    const xml = await upload('E09000001', '<plans/>', '?mode=delta', 'application/xml');
    expect({ status: xml.status, code: xml.body.error.code }).toEqual({
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    });
    expect(await service.scanTable()).toEqual(before);
  });

  it('refuses more than 5,000 records with 413 and writes nothing', async () => {
    const before = await service.scanTable();
    const rows = Array.from({ length: 5001 }, (_, i) => `${testNhsNumber(50_000 + i)},CPP,2026-01-01,`);
    const response = await upload(
      'E09000001',
      ['nhsNumber,planType,startDate,endDate', ...rows].join('\n'),
      '?mode=delta',
      'text/csv',
    );
    expect({ status: response.status, code: response.body.error.code }).toEqual({
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    });
    expect(response.body.error.message).toMatch(/at most 5000 records/);
    expect(await service.scanTable()).toEqual(before);
  });

  it('answers a dry run with the outcomes and writes nothing but its audit of the row', async () => {
    const before = await service.scanTable();
    const response = await upload(
      'E06000010',
      {
        mode: 'delta',
        records: [{ nhsNumber: testNhsNumber(70_000), planType: 'CPP', startDate: '2026-01-01' }],
      },
      '?dryRun=true',
    );
    expect(response.body).toMatchObject({
      dryRun: true,
      status: 'ALL_ACCEPTED',
      results: [{ outcome: 'CREATED' }],
    });
    const after = await service.scanTable();
    const added = after.filter((item) => !before.some((old) => old.PK === item.PK && old.SK === item.SK));
    expect(added.map((item) => [item.PK, item.action, item.outcome])).toEqual([
      [`AUDIT#${testNhsNumber(70_000)}`, 'UPLOAD_CHECKED', 'CHECKED'],
    ]);
    expect(after.filter((item) => !added.includes(item))).toEqual(before);
  });
});

describe('snapshot uploads', () => {
  const council = 'E06000010';
  const children = Array.from({ length: 20 }, (_, i) => testNhsNumber(80_000 + i * 7));

  it('ends the open plans absent from the file, and refuses (writing nothing) beyond the threshold unless forced', async () => {
    const all = children.map((nhsNumber) => ({ nhsNumber, planType: 'CPP', startDate: '2026-01-01' }));
    const first = await upload(council, { mode: 'snapshot', records: all });
    expect(first.body).toMatchObject({ status: 'ALL_ACCEPTED', accepted: 20, ended: 0 });

    // 2 of 20 absent: 10%, within the guard. They end today and are listed with row null.
    const withoutTwo = all.slice(2);
    const second = await upload(council, withoutTwo, '?mode=snapshot', 'application/json').catch(
      () => undefined,
    );
    expect(second?.status).toBe(400); // a bare list is not the documented shape
    const snapshot = await upload(council, { mode: 'snapshot', records: withoutTwo });
    expect(snapshot.body).toMatchObject({ status: 'ALL_ACCEPTED', accepted: 18, ended: 2 });
    expect(snapshot.body.results.slice(18)).toEqual(
      expect.arrayContaining([
        { row: null, nhsNumber: children[0], planType: 'CPP', outcome: 'ENDED' },
        { row: null, nhsNumber: children[1], planType: 'CPP', outcome: 'ENDED' },
      ]),
    );
    expect((await plansOf(council)).filter((plan) => plan.endsWith(TODAY))).toHaveLength(2);
    const audit = await service.request('GET', `/v1/audit/children/${children[0]}`, {
      token: await tokens.auditor(),
    });
    expect(audit.body.events[0]).toMatchObject({
      action: 'PLAN_ENDED',
      councilCode: council,
      planType: 'CPP',
    });

    // A truncated export: 3 of the 18 open plans absent (17%) is refused whole.
    const before = await service.scanTable();
    const truncated = await upload(council, {
      mode: 'snapshot',
      records: [
        ...withoutTwo.slice(3),
        { nhsNumber: testNhsNumber(81_000), planType: 'LAC', startDate: '2026-01-01' },
      ],
    });
    expect({ status: truncated.status, code: truncated.body.error.code }).toEqual({
      status: 409,
      code: 'SNAPSHOT_GUARD',
    });
    expect(truncated.body.error.message).toMatch(/would end 3 of the council's 18 open plans.*force=true/);
    expect(await service.scanTable()).toEqual(before);

    // Forced, it goes through.
    const forced = await upload(council, { mode: 'snapshot', records: withoutTwo.slice(3) }, '?force=true');
    expect(forced.body).toMatchObject({ ended: 3, accepted: 15 });
  });
});

describe('the upload CLI', () => {
  const run = promisify(execFile);
  const cliArgs = async (council: string, file: string, batchSize: number) => [
    '--no-warnings',
    '--import',
    'tsx',
    'cli/upload.ts',
    '--council',
    council,
    '--file',
    file,
    '--url',
    service.url,
    '--token',
    await tokens.council(council),
    '--batch-size',
    String(batchSize),
  ];
  const runCli = (args: string[]) =>
    run(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 }).then(
      (done) => ({ code: 0, stdout: done.stdout, stderr: done.stderr }),
      (error) => error as { code: number; stdout: string; stderr: string },
    );
  const writeFile = (rows: string[]) => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'upload-')), 'plans.csv');
    writeFileSync(file, ['nhsNumber,planType,startDate,endDate', ...rows].join('\n'));
    return file;
  };
  const resultLines = (file: string) =>
    readFileSync(file.replace(/\.csv$/, '.results.csv'), 'utf8')
      .trim()
      .split('\n');

  it('streams a file in batches, writes a result per row beside it, and exits 1 when rows were rejected', async () => {
    const rows = Array.from({ length: 25 }, (_, i) => `${testNhsNumber(90_000 + i * 5)},LAC,2026-02-01,`);
    rows[10] = '1234567890,LAC,2026-02-01,';
    const file = writeFile(rows);
    const args = await cliArgs('E06000011', file, 10);
    const failure = await runCli(args);
    expect(failure.code).toBe(1);
    expect(failure.stdout).toMatch(/created\s+24/);
    expect(failure.stdout).toMatch(/INVALID_NHS_NUMBER\s+1/);
    const results = resultLines(file);
    expect(results[0]).toBe('row,nhsNumber,planType,outcome,code,message');
    expect(results).toHaveLength(26);
    expect(results[11]).toMatch(/^11,1234567890,LAC,REJECTED,INVALID_NHS_NUMBER,/);
    expect(results[25]).toMatch(/^25,\d{10},LAC,CREATED,,$/);

    rows[10] = `${testNhsNumber(99_999)},LAC,2026-02-01,`;
    writeFileSync(file, ['nhsNumber,planType,startDate,endDate', ...rows].join('\n'));
    const success = await runCli(args);
    expect(success.code).toBe(0);
    expect(success.stdout).toMatch(/unchanged\s+24/);
    expect(success.stdout).toMatch(/created\s+1\b/);
  }, 60_000);

  it('rejects a row repeating a pair that an earlier request sent, as one request would, and keeps file order', async () => {
    const council = 'E06000012';
    const nhs = (i: number) => testNhsNumber(95_000 + i * 7);
    const rows = Array.from({ length: 30 }, (_, i) => `${nhs(i)},CPP,2026-03-01,`);
    rows[5] = `${nhs(4)},CPP,2026-05-05,`; // row 6 repeats row 5, in the same request
    rows[14] = `${nhs(2)},CPP,2026-04-01,`; // row 15 repeats row 3, sent in the request before
    rows[25] = `${nhs(11)},CPP,2026-06-01,2026-07-01`; // row 26 repeats row 12, two requests before
    rows[26] = `${nhs(11)},LAC,2026-06-01,`; // another plan type: a different pair
    const file = writeFile(rows);

    const outcome = await runCli(await cliArgs(council, file, 10));

    expect(outcome.code).toBe(1);
    expect(outcome.stdout).toMatch(/DUPLICATE_ROW\s+3/);
    const results = resultLines(file).slice(1);
    expect(results.map((line) => Number(line.split(',')[0]))).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    const duplicates = results.filter((line) => line.includes(',REJECTED,DUPLICATE_ROW,'));
    expect(duplicates.map((line) => line.split(',').slice(0, 3).join(','))).toEqual([
      `6,${nhs(4)},CPP`,
      `15,${nhs(2)},CPP`,
      `26,${nhs(11)},CPP`,
    ]);
    expect(results.filter((line) => line.includes(',CREATED,'))).toHaveLength(27);
    // The first row naming a pair is the one applied.
    const plans = await plansOf(council);
    expect(plans).toHaveLength(27);
    expect(plans).toContain(`${nhs(2)}|CPP|2026-03-01|`);
    expect(plans).toContain(`${nhs(4)}|CPP|2026-03-01|`);
    expect(plans).toContain(`${nhs(11)}|CPP|2026-03-01|`);
    expect(plans).toContain(`${nhs(11)}|LAC|2026-06-01|`);
  }, 60_000);

  it('refuses a file that cannot be parsed part-way before sending anything, naming the row and line', async () => {
    const council = 'E09000001';
    const rows = Array.from({ length: 2000 }, (_, i) => `${testNhsNumber(300_000 + i * 3)},CPP,2026-01-01,`);
    const row1500 = rows[1499] as string;
    const unclosed = [...rows];
    unclosed[1499] = `"${row1500}`; // row 1,500 (the second request): its quote runs to the end of the file
    const stray = [...rows];
    stray[1499] = `${row1500.slice(0, 4)}"${row1500.slice(4)}`; // a quote inside an unquoted cell
    stray.splice(100, 0, '', ''); // two blank lines: row 1,500 is then on line 1,503
    const before = await service.scanTable();
    const cases: [string[], RegExp, RegExp][] = [
      [unclosed, /row 1,500, on line 1,501/, /quoted cell is never closed/],
      [stray, /row 1,500, on line 1,503/, /quote \(".*\) inside a cell/],
    ];
    for (const [fileRows, where, what] of cases) {
      const file = writeFile(fileRows);
      const outcome = await runCli(await cliArgs(council, file, 1000));
      expect(await service.scanTable()).toEqual(before);
      expect(existsSync(file.replace(/\.csv$/, '.results.csv'))).toBe(false);
      expect(outcome.code).toBe(2);
      expect(outcome.stderr).toMatch(where);
      expect(outcome.stderr).toMatch(what);
      expect(outcome.stderr).toMatch(/Nothing was sent/);
    }
  }, 120_000);

  it('on a stop part-way, keeps the results of every request answered and says which rows to send again', async () => {
    const council = 'E08000025';
    const nhs = (i: number) => testNhsNumber(310_000 + i * 3);
    const rows = Array.from({ length: 30 }, (_, i) => `${nhs(i)},UCPP,2026-02-01,`);
    // Row 5 makes the first request (rows 1-10) too large for the service: refused whole with 413. The
    // second (rows 11-20) is already in flight and is answered; the third is never sent.
    const tooLarge = [...rows];
    tooLarge[4] = `${'9'.repeat(6_500_000)},UCPP,2026-02-01,`;
    const file = writeFile(tooLarge);
    const plansBefore = await plansOf(council);

    const stop = await runCli(await cliArgs(council, file, 10));

    expect(resultLines(file)).toEqual([
      'row,nhsNumber,planType,outcome,code,message',
      ...Array.from({ length: 10 }, (_, i) => `${11 + i},${nhs(10 + i)},UCPP,CREATED,,`),
    ]);
    const applied = Array.from({ length: 10 }, (_, i) => `${nhs(10 + i)}|UCPP|2026-02-01|`);
    expect(await plansOf(council)).toEqual([...plansBefore, ...applied].sort());

    expect(stop.code).toBe(2);
    expect(stop.stderr).toMatch(/Upload stopped at row 1: .*413 PAYLOAD_TOO_LARGE/);
    expect(stop.stderr).toMatch(
      /answered rows 11 to 20: 10 applied \(created, updated or unchanged\) and 0 rejected/,
    );
    expect(stop.stderr).toMatch(
      /Rows from 1 on \(except rows 11 to 20\) have no result and were not applied\./,
    );
    expect(stop.stderr).toMatch(/run the same upload again with the whole file: that is safe/);

    // As the message says: the whole file again, corrected, applies the rest and leaves rows 11-20 alone.
    writeFileSync(file, ['nhsNumber,planType,startDate,endDate', ...rows].join('\n'));
    const again = await runCli(await cliArgs(council, file, 10));
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/created\s+20\b/);
    expect(again.stdout).toMatch(/unchanged\s+10\b/);
    expect(resultLines(file).slice(11, 21)).toEqual(
      Array.from({ length: 10 }, (_, i) => `${11 + i},${nhs(10 + i)},UCPP,UNCHANGED,,`),
    );
    expect(await plansOf(council)).toEqual(
      [...plansBefore, ...rows.map((row) => `${row.split(',')[0]}|UCPP|2026-02-01|`)].sort(),
    );
  }, 120_000);

  it('gives a row of one empty cell its own result, not the next row its neighbour', async () => {
    const council = 'E06000011';
    const nhs = (i: number) => testNhsNumber(320_000 + i * 3);
    const file = writeFile([`${nhs(0)},CPP,2026-02-01,`, '""', `${nhs(2)},CPP,2026-02-01,`]);
    const outcome = await runCli(await cliArgs(council, file, 10));
    expect(resultLines(file).slice(1)).toEqual([
      `1,${nhs(0)},CPP,CREATED,,`,
      '2,,,REJECTED,INVALID_RECORD,The row has 1 cells; expected 4',
      `3,${nhs(2)},CPP,CREATED,,`,
    ]);
    expect(outcome.code).toBe(1);
  }, 60_000);
});
