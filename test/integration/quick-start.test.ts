/**
 * The README's promise: `npm start` brings the whole service up and its worked example works verbatim;
 * Ctrl-C stops every process it started. The test runs its own instance, on a free port and with its
 * own runtime file, so that a developer's `npm start` (on 3000, with .local/runtime.json) is never used.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const runtimeDir = mkdtempSync(path.join(tmpdir(), 'quick-start-'));
const runtimeFile = path.join(runtimeDir, 'runtime.json');
// Both npm start and the CLIs the example runs find the service through this file.
const env = { ...process.env, PORT: '0', LOCAL_RUNTIME_FILE: runtimeFile };
let server: ChildProcess;
let url: string;
let output = '';

/** The README's example block, verbatim but for its `API=` line, which names this test's instance. */
function readmeExample(apiUrl: string): string {
  const readme = readFileSync('README.md', 'utf8');
  const block = /<!-- example:start -->\s*```bash\n([\s\S]*?)```\s*<!-- example:end -->/.exec(readme);
  if (!block?.[1]) throw new Error('README.md has no example block');
  const apiLine = /^API=http:\/\/127\.0\.0\.1:3000$/m;
  if (!apiLine.test(block[1]))
    throw new Error('README.md example no longer starts with API=http://127.0.0.1:3000');
  return block[1].replace(apiLine, `API=${apiUrl}`);
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
    env,
  });
  server.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  server.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  url = (await waitForOutput(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 90_000))[1] as string;
}, 120_000);

afterAll(async () => {
  try {
    process.kill(-(server.pid as number), 'SIGKILL');
  } catch {
    // already gone
  }
  rmSync(runtimeDir, { recursive: true, force: true });
});

describe('quick start', () => {
  it('runs the README example verbatim against npm start', async () => {
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', readmeExample(url)], {
      env,
      timeout: 60_000,
    });
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

  it("prints its identity provider's address, whose discovery documents and key sets answer", async () => {
    const origin = (await waitForOutput(/Identity provider (http:\/\/127\.0\.0\.1:\d+)/, 5_000))[1] as string;
    expect(JSON.parse(readFileSync(runtimeFile, 'utf8')).identityOrigin).toBe(origin);
    for (const issuer of [`${origin}/cis2`, `${origin}/systems`]) {
      const printed = `discovery ${issuer}/.well-known/openid-configuration · keys ${issuer}/jwks`;
      expect(output).toContain(printed);
      const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
      expect(discovery).toMatchObject({ issuer, jwks_uri: `${issuer}/jwks` });
      const jwks = await (await fetch(discovery.jwks_uri)).json();
      expect(jwks.keys).toEqual([
        expect.objectContaining({ kty: 'EC', alg: 'ES256', kid: expect.any(String) }),
      ]);
      expect(jwks.keys[0]).not.toHaveProperty('d');
    }
    const cis2 = await (await fetch(`${origin}/cis2/.well-known/openid-configuration`)).json();
    expect(cis2).toMatchObject({
      userinfo_endpoint: `${origin}/cis2/me`,
      code_challenge_methods_supported: ['S256'],
      scopes_supported: expect.arrayContaining(['openid', 'profile', 'nationalrbacaccess']),
    });
  });

  it('stops every process it started on Ctrl-C', async () => {
    const runtime = JSON.parse(readFileSync(runtimeFile, 'utf8'));
    expect(runtime.url).toBe(url);
    const exited = new Promise<string>((resolve) =>
      server.once('exit', (code, signal) => resolve(`${code}/${signal}`)),
    );
    // Ctrl-C in a terminal signals the whole foreground process group: npm and the service under it.
    process.kill(-(server.pid as number), 'SIGINT');
    expect(['0/null', 'null/SIGINT', '130/null']).toContain(await exited);
    expect(output).toContain('Stopping');
    expect(existsSync(runtimeFile)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const endpoint of [
      runtime.dynamodbEndpoint,
      runtime.sqsEndpoint,
      runtime.url,
      runtime.identityOrigin,
    ]) {
      await expect(fetch(endpoint)).rejects.toThrow();
    }
  }, 30_000);
});
