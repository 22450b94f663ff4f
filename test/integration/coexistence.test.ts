/**
 * `npm start` as a developer runs it (default port, default runtime file) and the test suite side by
 * side: it prints and serves the web view and its identity provider's documents; the suite passes and
 * leaves the running service alone; a second `npm start` and one whose
 * port is taken refuse with one line; Ctrl-C removes only its own runtime file and stops everything.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_RUNTIME_FILE, displayPath, removeRuntimeInfo } from '../../local/runtime-file';

/** Set in the jest run this test starts, so that it does not start itself again. */
const CHILD_RUN = 'COEXISTENCE_CHILD_RUN';
const describeOutsideChildRun = process.env[CHILD_RUN] ? describe.skip : describe;

const DEFAULT_PORT = 3000;
const scratch = mkdtempSync(path.join(tmpdir(), 'coexistence-'));
const started: ChildProcess[] = [];

interface Running {
  child: ChildProcess;
  output: () => string;
}

function npmStart(env: NodeJS.ProcessEnv): Running {
  // Its own process group, as in a terminal: Ctrl-C signals the whole group.
  const child = spawn('npm', ['start'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
  started.push(child);
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  return { child, output: () => output };
}

async function waitForOutput(running: Running, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = pattern.exec(running.output());
    if (match) return match;
    if (running.child.exitCode !== null) throw new Error(`npm start exited early:\n${running.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`npm start did not print ${pattern} in time:\n${running.output()}`);
}

/** Runs an `npm start` expected to refuse: its exit code and its stderr. */
async function refusedStart(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  const child = spawn('npm', ['start'], { detached: true, stdio: ['ignore', 'ignore', 'pipe'], env });
  started.push(child);
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => killGroup(child), 60_000);
  const code = await new Promise<number | null>((resolve) =>
    child.once('exit', (exitCode) => resolve(exitCode)),
  );
  clearTimeout(timer);
  return { code, stderr };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-(child.pid as number), signal);
  } catch {
    // already gone
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** Whether `pid` is `ancestor` or runs under it. */
function descendsFrom(pid: number, ancestor: number): boolean {
  for (let current = pid, hops = 0; current > 1 && hops < 20; hops++) {
    if (current === ancestor) return true;
    try {
      current = Number(
        execFileSync('ps', ['-o', 'ppid=', '-p', String(current)], { encoding: 'utf8' }).trim(),
      );
    } catch {
      return false;
    }
  }
  return false;
}

function readRuntime(file: string): {
  pid: number;
  url: string;
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  identityOrigin: string;
} {
  return JSON.parse(readFileSync(file, 'utf8'));
}

const portInUseLine = (port: number) =>
  `Could not start the local service: port ${port} (PORT) is in use on 127.0.0.1: stop the other process or set PORT to a free port (PORT=0 picks one)`;

describeOutsideChildRun('npm start beside the test suite', () => {
  const baseEnv: NodeJS.ProcessEnv = { ...process.env };
  delete baseEnv.PORT;
  delete baseEnv.LOCAL_RUNTIME_FILE;
  let env: NodeJS.ProcessEnv;
  let runtimeFile: string;
  let defaultPortBusy: { code: number | null; stderr: string } | undefined;
  let server: Running;
  let url: string;

  beforeAll(async () => {
    // As a developer runs it, unless a developer's own `npm start` holds the default runtime file.
    let ownerAlive = false;
    if (existsSync(DEFAULT_RUNTIME_FILE)) {
      try {
        process.kill(readRuntime(DEFAULT_RUNTIME_FILE).pid, 0);
        ownerAlive = true;
      } catch {
        ownerAlive = false;
      }
    }
    runtimeFile = ownerAlive ? path.join(scratch, 'runtime.json') : DEFAULT_RUNTIME_FILE;
    env = ownerAlive ? { ...baseEnv, LOCAL_RUNTIME_FILE: runtimeFile } : { ...baseEnv };

    if (!(await portFree(DEFAULT_PORT))) {
      // Something else has 3000: npm start must say so in one line; the rest runs on a free port.
      defaultPortBusy = await refusedStart(env);
      env = { ...env, PORT: '0' };
    }
    server = npmStart(env);
    url = (await waitForOutput(server, /listening on (http:\/\/127\.0\.0\.1:\d+)/, 90_000))[1] as string;
  }, 150_000);

  afterAll(async () => {
    for (const child of started) killGroup(child);
    if (server?.child.pid && runtimeFile) {
      // Only a file left behind by a failed run of this test's own instance.
      const record = existsSync(runtimeFile) ? readRuntime(runtimeFile) : undefined;
      if (record && descendsFrom(record.pid, server.child.pid))
        await removeRuntimeInfo(runtimeFile, record.pid);
    }
    rmSync(scratch, { recursive: true, force: true });
  });

  it('runs on the default port, or says in one line that PORT is taken', () => {
    if (defaultPortBusy) {
      expect(defaultPortBusy.code).toBe(1);
      expect(defaultPortBusy.stderr.trim()).toBe(portInUseLine(DEFAULT_PORT));
    } else {
      expect(url).toBe(`http://127.0.0.1:${DEFAULT_PORT}`);
    }
    expect(server.output()).toContain(`API reference ${url}/docs`);
    expect(server.output()).toContain(`OpenAPI document ${url}/openapi.json`);
    // Its own identity provider, on a port of its own, beside the API.
    const identity = readRuntime(runtimeFile).identityOrigin;
    expect(identity).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.output()).toContain(`Identity provider ${identity}`);
  });

  it('prints the web view’s address and the identity provider’s discovery documents, and each answers', async () => {
    // The last line of the start-up banner: everything above it is printed.
    await waitForOutput(server, /Press Ctrl-C to stop\./, 10_000);
    const output = server.output();
    const webView = /Clinician web view (\S+)/.exec(output)?.[1];
    expect(webView).toBe(`${url}/web/`);
    const page = await fetch(webView as string);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(await page.text()).toContain('<title>Child protection alerts – NHS</title>');
    const identity = readRuntime(runtimeFile).identityOrigin;
    const pageConfig = await fetch(new URL('config.json', webView));
    expect(pageConfig.status).toBe(200);
    expect(((await pageConfig.json()) as { issuer: string }).issuer).toBe(`${identity}/cis2`);

    // Both issuers, each with its discovery document and key set at the printed addresses.
    const printed = [...output.matchAll(/discovery (\S+) · keys (\S+)/g)].map((match) => [
      match[1],
      match[2],
    ]);
    expect(printed).toEqual([
      [`${identity}/cis2/.well-known/openid-configuration`, `${identity}/cis2/jwks`],
      [`${identity}/systems/.well-known/openid-configuration`, `${identity}/systems/jwks`],
    ]);
    for (const [discoveryUrl, keysUrl] of printed as [string, string][]) {
      const discovery = await fetch(discoveryUrl);
      expect(discovery.status).toBe(200);
      const document = (await discovery.json()) as { issuer: string; jwks_uri: string };
      expect(`${document.issuer}/.well-known/openid-configuration`).toBe(discoveryUrl);
      expect(document.jwks_uri).toBe(keysUrl);
      const keys = await fetch(keysUrl);
      expect(keys.status).toBe(200);
      expect(((await keys.json()) as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
    }
  }, 30_000);

  it('lets the integration suite run beside it, and still answers', async () => {
    const jest = spawn(
      process.execPath,
      [
        '--experimental-vm-modules',
        '--no-warnings',
        'node_modules/jest/bin/jest.js',
        '--selectProjects',
        'integration',
        '--testPathPatterns',
        'quick-start|plans-and-lookups',
      ],
      { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, [CHILD_RUN]: '1' } },
    );
    started.push(jest);
    let jestOutput = '';
    jest.stdout?.on('data', (chunk) => {
      jestOutput += chunk;
    });
    jest.stderr?.on('data', (chunk) => {
      jestOutput += chunk;
    });
    const timer = setTimeout(() => killGroup(jest), 170_000);
    const code = await new Promise<number | null>((resolve) =>
      jest.once('exit', (exitCode) => resolve(exitCode)),
    );
    clearTimeout(timer);
    if (code !== 0)
      throw new Error(`the integration suite failed beside npm start (exit ${code}):\n${jestOutput}`);

    const document = await fetch(`${url}/openapi.json`);
    expect(document.status).toBe(200);
    expect(((await document.json()) as { servers: unknown }).servers).toEqual([
      expect.objectContaining({ url }),
    ]);
    const docs = await fetch(`${url}/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await docs.text()).toContain('/docs/swagger-ui-bundle.js');
    expect((await fetch(`${url}/docs/swagger-ui-bundle.js`)).status).toBe(200);

    const runtime = readRuntime(runtimeFile);
    expect(runtime.url).toBe(url);
    expect(descendsFrom(runtime.pid, server.child.pid as number)).toBe(true);
  }, 180_000);

  it('refuses a second npm start on the same runtime file in one line, leaving the first alone', async () => {
    const { pid } = readRuntime(runtimeFile);
    const second = await refusedStart(env);
    expect(second.code).toBe(1);
    expect(second.stderr.trim()).toBe(
      `Could not start the local service: another npm start (pid ${pid}) is running on ${url} and owns ${displayPath(runtimeFile)}: use that one, or run a second one with its own port and runtime file, e.g. PORT=0 LOCAL_RUNTIME_FILE=.local/runtime-2.json npm start`,
    );
    expect(readRuntime(runtimeFile).pid).toBe(pid);
    expect((await fetch(`${url}/openapi.json`)).status).toBe(200);
  }, 60_000);

  it('refuses, in one line naming PORT, to start on a port in use', async () => {
    const port = Number(new URL(url).port);
    const otherFile = path.join(scratch, 'other-runtime.json');
    const taken = await refusedStart({ ...baseEnv, PORT: String(port), LOCAL_RUNTIME_FILE: otherFile });
    expect(taken.code).toBe(1);
    expect(taken.stderr.trim()).toBe(portInUseLine(port));
    expect(existsSync(otherFile)).toBe(false);
    expect(existsSync(runtimeFile)).toBe(true);
  }, 60_000);

  it('stops on Ctrl-C: its runtime file removed, every process it started gone', async () => {
    const runtime = readRuntime(runtimeFile);
    const pgid = server.child.pid as number;
    const exited = new Promise<string>((resolve) =>
      server.child.once('exit', (code, signal) => resolve(`${code}/${signal}`)),
    );
    killGroup(server.child, 'SIGINT');
    expect(['0/null', 'null/SIGINT', '130/null']).toContain(await exited);
    expect(existsSync(runtimeFile)).toBe(false);
    // DynamoDB Local and fauxqs ran in npm start's process group: nothing of it is left.
    const deadline = Date.now() + 10_000;
    while (groupAlive(pgid) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(groupAlive(pgid)).toBe(false);
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
