/**
 * The upload CLI's request loop against a stand-in for the API: a request refused with 409 CONFLICT
 * (plans changed while it ran, e.g. an earlier attempt that timed out still writing) is sent again,
 * and its rows' results are those of the attempt that succeeded; other refusals end the upload.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const ROWS = ['9434765919,CPP,2026-01-05,', '9434765870,LAC,2026-01-06,'];

/** Answers requests in turn; `drop` closes the connection without an answer. */
async function standIn(answers: ({ status: number; body: unknown } | 'drop')[]) {
  const bodies: string[] = [];
  const urls: string[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      bodies.push(body);
      urls.push(request.url ?? '');
      const answer = answers[Math.min(bodies.length, answers.length) - 1] as (typeof answers)[number];
      if (answer === 'drop') {
        request.socket.destroy();
        return;
      }
      response.writeHead(answer.status, { 'Content-Type': 'application/json', 'Retry-After': '0' });
      response.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    urls,
    close: () => server.close(),
  };
}

async function runCli(url: string, extraArgs: string[] = []) {
  const dir = mkdtempSync(path.join(tmpdir(), 'upload-cli-'));
  const file = path.join(dir, 'plans.csv');
  writeFileSync(file, ['nhsNumber,planType,startDate,endDate', ...ROWS].join('\n'));
  const args = [
    '--no-warnings',
    '--import',
    'tsx',
    'cli/upload.ts',
    '--council',
    'E09000001',
    '--file',
    file,
    ...extraArgs,
  ];
  const outcome = await promisify(execFile)(process.execPath, [...args, '--url', url, '--token', 'x']).then(
    ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
  const resultsFile = path.join(dir, 'plans.results.csv');
  // None when the CLI refused its arguments before reading the file.
  return { ...outcome, results: existsSync(resultsFile) ? readFileSync(resultsFile, 'utf8') : undefined };
}

const conflict = {
  status: 409,
  body: { error: { code: 'CONFLICT', message: 'Some of these plans changed' } },
};
const accepted = {
  status: 200,
  body: {
    results: [
      { row: 1, nhsNumber: '9434765919', planType: 'CPP', outcome: 'UNCHANGED', code: null, message: null },
      { row: 2, nhsNumber: '9434765870', planType: 'LAC', outcome: 'CREATED', code: null, message: null },
    ],
  },
};

it('sends a request refused with CONFLICT again, and records the results of the attempt that succeeded', async () => {
  const api = await standIn([conflict, accepted]);
  try {
    const run = await runCli(api.url);
    expect(run.code).toBe(0);
    expect(api.bodies).toHaveLength(2);
    expect(api.bodies[1]).toBe(api.bodies[0]);
    expect(run.stdout).toMatch(/created\s+1\b/);
    expect(run.stdout).toMatch(/unchanged\s+1\b/);
    expect((run.results ?? '').trim().split('\n')).toEqual([
      'row,nhsNumber,planType,outcome,code,message',
      '1,9434765919,CPP,UNCHANGED,,',
      '2,9434765870,LAC,CREATED,,',
    ]);
  } finally {
    api.close();
  }
}, 60_000);

it('does not send again what the service refused for the request itself (403), and exits 2', async () => {
  const api = await standIn([
    { status: 403, body: { error: { code: 'FORBIDDEN', message: 'Not your council' } } },
  ]);
  try {
    const run = await runCli(api.url);
    expect(run.code).toBe(2);
    expect(api.bodies).toHaveLength(1);
    expect(run.stderr).toContain('403 FORBIDDEN');
  } finally {
    api.close();
  }
}, 60_000);

it('sends a request again when the connection drops before an answer, and records the answer that came', async () => {
  const api = await standIn(['drop', accepted]);
  try {
    const run = await runCli(api.url);
    expect(run.code).toBe(0);
    expect(api.bodies).toHaveLength(2);
    expect(api.bodies[1]).toBe(api.bodies[0]);
    expect(run.results).toContain('2,9434765870,LAC,CREATED,,');
  } finally {
    api.close();
  }
}, 60_000);

it('passes --force on for a snapshot, and refuses it without --snapshot before sending anything', async () => {
  const api = await standIn([accepted]);
  try {
    const forced = await runCli(api.url, ['--snapshot', '--force']);
    expect(forced.code).toBe(0);
    expect(new URLSearchParams(api.urls[0]?.split('?')[1]).get('mode')).toBe('snapshot');
    expect(new URLSearchParams(api.urls[0]?.split('?')[1]).get('force')).toBe('true');
    const misused = await runCli(api.url, ['--force']);
    expect(misused.code).toBe(2);
    expect(misused.stderr).toContain('--force applies to a snapshot only');
    expect(misused.results).toBeUndefined();
    expect(api.bodies).toHaveLength(1);
  } finally {
    api.close();
  }
}, 60_000);

it('writes a results file whose cells a spreadsheet cannot take for formulas', async () => {
  // The service echoes each row's cells: a file's own cells can be hostile, as can any message.
  const hostile = {
    status: 200,
    body: {
      results: [
        {
          row: 1,
          nhsNumber: '=HYPERLINK("http://x","y")',
          planType: '+CPP',
          outcome: 'REJECTED',
          code: 'INVALID_NHS_NUMBER',
          message: '@SUM(A1)',
        },
        {
          row: 2,
          nhsNumber: '-1',
          planType: '\tLAC',
          outcome: 'REJECTED',
          code: 'INVALID_RECORD',
          message: '\rx',
        },
      ],
    },
  };
  const api = await standIn([hostile]);
  try {
    const run = await runCli(api.url);
    expect(run.code).toBe(1);
    const { parse } = await import('csv-parse/sync');
    const cells = (parse(run.results ?? '', { relax_column_count: true }) as string[][]).flat();
    for (const cell of cells) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    expect(cells).toEqual(
      expect.arrayContaining([`'=HYPERLINK("http://x","y")`, "'+CPP", "'@SUM(A1)", "'-1", "'\tLAC", "'\rx"]),
    );
  } finally {
    api.close();
  }
}, 60_000);
