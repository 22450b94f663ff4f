/**
 * The README's promise: `npm start` brings the whole service up and its worked example works verbatim;
 * Ctrl-C stops every process it started.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);
let server: ChildProcess;
let output = '';

function readmeExample(): string {
  const readme = readFileSync('README.md', 'utf8');
  const block = /<!-- example:start -->\s*```bash\n([\s\S]*?)```\s*<!-- example:end -->/.exec(readme);
  if (!block?.[1]) throw new Error('README.md has no example block');
  return block[1];
}

async function waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = pattern.exec(output);
    if (match) return match;
    if (server.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`npm start did not print ${pattern} in time:\n${output}`);
}

beforeAll(async () => {
  server = spawn('npm', ['start'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: '3000' },
  });
  server.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  server.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  await waitForOutput(/listening on (http:\/\/127\.0\.0\.1:3000)/, 90_000);
}, 120_000);

afterAll(async () => {
  try {
    process.kill(-(server.pid as number), 'SIGKILL');
  } catch {
    // already gone
  }
});

describe('quick start', () => {
  it('runs the README example verbatim against npm start', async () => {
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', readmeExample()], { timeout: 60_000 });
    const lines = stdout.trim().split('\n');
    expect(JSON.parse(lines[0] as string)).toEqual({
      code: 'E09000001',
      name: 'London Borough of Example',
      officeHoursPhone: '020 7946 0000',
      emergencyDutyPhone: '020 7946 0999',
    });
    expect(JSON.parse(lines[1] as string)).toMatchObject({
      nhsNumber: '9990000018',
      planType: 'CPP',
      version: '1',
    });
    const lookup = JSON.parse(lines[2] as string);
    expect(lookup.plans).toEqual([
      {
        planType: 'CPP',
        startDate: '2026-03-01',
        endDate: null,
        council: {
          code: 'E09000001',
          name: 'London Borough of Example',
          officeHoursPhone: '020 7946 0000',
          emergencyDutyPhone: '020 7946 0999',
        },
      },
    ]);
    const notification = JSON.parse(lines[3] as string);
    expect(notification).toMatchObject({
      type: 'ChildRecordAccessed',
      councilCode: 'E09000001',
      nhsNumber: '9990000018',
      planTypes: ['CPP'],
      accessedBy: {
        userId: 'u1',
        userName: 'Dr Ada Lovelace',
        organisation: 'RXX01',
        setting: 'emergency-department',
      },
    });
    expect(lines).toHaveLength(4);
  }, 90_000);

  it('stops every process it started on Ctrl-C', async () => {
    const runtime = JSON.parse(readFileSync('.local/runtime.json', 'utf8'));
    const exited = new Promise<string>((resolve) =>
      server.once('exit', (code, signal) => resolve(`${code}/${signal}`)),
    );
    // Ctrl-C in a terminal signals the whole foreground process group: npm and the service under it.
    process.kill(-(server.pid as number), 'SIGINT');
    expect(['0/null', 'null/SIGINT', '130/null']).toContain(await exited);
    expect(output).toContain('Stopping');
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const endpoint of [runtime.dynamodbEndpoint, runtime.sqsEndpoint, runtime.url]) {
      await expect(fetch(endpoint)).rejects.toThrow();
    }
  }, 30_000);
});
