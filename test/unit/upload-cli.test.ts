/**
 * The upload CLI's request loop against a stand-in for the API: a request refused with 409 CONFLICT
 * (plans changed while it ran, e.g. an earlier attempt that timed out still writing) is sent again,
 * and its rows' results are those of the attempt that succeeded; other refusals end the upload.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const ROWS = ['9434765919,CPP,2026-01-05,', '9434765870,LAC,2026-01-06,'];

async function standIn(answers: { status: number; body: unknown }[]) {
  const bodies: string[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      bodies.push(body);
      const answer = answers[Math.min(bodies.length, answers.length) - 1] as {
        status: number;
        body: unknown;
      };
      response.writeHead(answer.status, { 'Content-Type': 'application/json', 'Retry-After': '0' });
      response.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () => server.close(),
  };
}

async function runCli(url: string) {
  const dir = mkdtempSync(path.join(tmpdir(), 'upload-cli-'));
  const file = path.join(dir, 'plans.csv');
  writeFileSync(file, ['nhsNumber,planType,startDate,endDate', ...ROWS].join('\n'));
  const args = [
    '--no-warnings',
    '--import',
    'tsx',
    'local/upload.ts',
    '--council',
    'E09000001',
    '--file',
    file,
  ];
  const outcome = await promisify(execFile)(process.execPath, [...args, '--url', url, '--token', 'x']).then(
    ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
  return { ...outcome, results: readFileSync(path.join(dir, 'plans.results.csv'), 'utf8') };
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
    expect(run.results.trim().split('\n')).toEqual([
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
