import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readLocalConfig } from '../../local/config';
import { createHttpAdapter } from '../../local/http-adapter';
import { DEFAULT_RATE_LIMITS, RateLimiter } from '../../local/rate-limiter';
import {
  claimRuntimeFile,
  DEFAULT_RUNTIME_FILE,
  displayPath,
  RuntimeFileBusy,
  readRuntimeInfo,
  removeRuntimeInfo,
  runtimeFilePath,
  writeRuntimeInfo,
} from '../../local/runtime-file';

describe('local configuration', () => {
  it('uses the documented defaults', () => {
    expect(readLocalConfig({})).toEqual({
      PORT: 3000,
      HOST: '127.0.0.1',
      TABLE_NAME: 'child-protection-local',
      COUNCIL_QUEUE_NAME_PREFIX: 'cpis-council-',
      RATE_PER_CALLER: 300,
      LOOKUP_RATE_PER_USER: 120,
      LOOKUP_RATE_PER_ORG: 1200,
    });
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT must be a port number/],
    [{ PORT: '70000' }, /PORT must be from 0 to 65535/],
    [{ LOOKUP_RATE_PER_USER: '0' }, /LOOKUP_RATE_PER_USER must be at least 1/],
    [{ RATE_PER_CALLER: 'lots' }, /RATE_PER_CALLER must be a whole number/],
    [{ LOOKUP_RATE_PER_ORG: '-5' }, /LOOKUP_RATE_PER_ORG must be a whole number/],
    [{ TABLE_NAME: 'a b' }, /TABLE_NAME must be/],
    [{ SNAPSHOT_MAX_END_SHARE: '1.5' }, /SNAPSHOT_MAX_END_SHARE must be a number from 0 to 1/],
    [{ PLAN_WRITE_CONCURRENCY: '0' }, /PLAN_WRITE_CONCURRENCY must be a whole number from 1 to 32/],
    [{ PLAN_WRITE_CONCURRENCY: '33' }, /PLAN_WRITE_CONCURRENCY must be a whole number from 1 to 32/],
  ])('refuses %j with a message naming the setting', (env, message) => {
    expect(() => readLocalConfig(env)).toThrow(message);
  });
});

describe('npm start with a bad setting', () => {
  it('stops before starting anything, naming the setting', async () => {
    const { execFile } = await import('node:child_process');
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--no-warnings', '--import', 'tsx', 'local/start.ts'],
        { env: { ...process.env, PORT: 'abc' } },
        (error, _stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stderr }),
      );
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'Could not start the local service: Invalid configuration: PORT must be a port number',
    );
  }, 30_000);
});

describe('runtime file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'runtime-file-'));
  const file = (name: string) => path.join(dir, name);
  const info = (pid: number) => ({
    pid,
    url: 'http://127.0.0.1:1',
    dynamodbEndpoint: 'http://127.0.0.1:2',
    sqsEndpoint: 'http://127.0.0.1:3',
    tableName: 't',
    queuePrefix: 'p-',
  });
  // A pid that names no process: a child that has already exited.
  const deadPid = () => {
    const { pid } = spawnSync(process.execPath, ['-e', '']);
    return pid as number;
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is .local/runtime.json unless LOCAL_RUNTIME_FILE names another, relative to the repository root', () => {
    expect(runtimeFilePath({})).toBe(DEFAULT_RUNTIME_FILE);
    expect(displayPath(runtimeFilePath({}))).toBe(path.join('.local', 'runtime.json'));
    expect(runtimeFilePath({ LOCAL_RUNTIME_FILE: '.local/second.json' })).toBe(
      path.join(path.dirname(DEFAULT_RUNTIME_FILE), 'second.json'),
    );
    expect(runtimeFilePath({ LOCAL_RUNTIME_FILE: file('x.json') })).toBe(file('x.json'));
  });

  it('is read from LOCAL_RUNTIME_FILE by readRuntimeInfo() with no arguments', async () => {
    await writeRuntimeInfo(info(process.pid), file('env.json'));
    const before = process.env.LOCAL_RUNTIME_FILE;
    process.env.LOCAL_RUNTIME_FILE = file('env.json');
    try {
      await expect(readRuntimeInfo()).resolves.toEqual(info(process.pid));
    } finally {
      if (before === undefined) delete process.env.LOCAL_RUNTIME_FILE;
      else process.env.LOCAL_RUNTIME_FILE = before;
    }
  });

  it('is claimed by one instance: a second is refused while the first runs, naming its pid and URL', async () => {
    const target = file('claim.json');
    const server = createServer((_, response) => response.end('{}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    try {
      await claimRuntimeFile(target, process.pid);
      await writeRuntimeInfo({ ...info(process.pid), url: `http://127.0.0.1:${port}` }, target);
      const refusal = claimRuntimeFile(target, process.pid + 1);
      await expect(refusal).rejects.toBeInstanceOf(RuntimeFileBusy);
      await expect(refusal).rejects.toThrow(
        `another npm start (pid ${process.pid}) is running on http://127.0.0.1:${port} and owns ${target}`,
      );
      expect(JSON.parse(readFileSync(target, 'utf8')).pid).toBe(process.pid);
    } finally {
      server.close();
    }
  });

  it('is taken over from an instance that no longer runs, or whose URL refuses connections', async () => {
    const target = file('stale.json');
    await writeRuntimeInfo(info(deadPid()), target);
    await claimRuntimeFile(target, 4242);
    expect(JSON.parse(readFileSync(target, 'utf8'))).toEqual({ pid: 4242 });
    // The pid is alive (this process) but nothing listens on the URL: a pid reused after a hard stop.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    await writeRuntimeInfo({ ...info(process.pid), url: `http://127.0.0.1:${port}` }, target);
    await claimRuntimeFile(target, 4243);
    expect(JSON.parse(readFileSync(target, 'utf8'))).toEqual({ pid: 4243 });
  });

  it('is removed only by the instance it names', async () => {
    const target = file('owned.json');
    await writeRuntimeInfo(info(process.pid), target);
    await expect(removeRuntimeInfo(target, process.pid + 1)).resolves.toBe(false);
    expect(existsSync(target)).toBe(true);
    await expect(removeRuntimeInfo(target, process.pid)).resolves.toBe(true);
    expect(existsSync(target)).toBe(false);
  });

  it('tells a CLI when the service is not running, has stopped, or is still starting', async () => {
    await expect(readRuntimeInfo(file('absent.json'))).rejects.toThrow(/is not running/);
    await writeRuntimeInfo(info(deadPid()), file('ended.json'));
    await expect(readRuntimeInfo(file('ended.json'))).rejects.toThrow(/its last run ended/);
    await claimRuntimeFile(file('starting.json'), process.pid);
    await expect(readRuntimeInfo(file('starting.json'))).rejects.toThrow(/still starting/);
  });
});

describe('the local API reference', () => {
  let base: string;
  let server: ReturnType<typeof createHttpAdapter>;
  beforeAll(async () => {
    server = createHttpAdapter({
      handlers: {},
      authorizer: async () => {
        throw new Error('Unauthorized');
      },
      rateLimiter: new RateLimiter(DEFAULT_RATE_LIMITS),
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('serves the committed OpenAPI document without a token, naming this instance as its server', async () => {
    const response = await fetch(`${base}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const committed = JSON.parse(readFileSync('openapi.json', 'utf8'));
    expect(await response.json()).toEqual({
      ...committed,
      servers: [expect.objectContaining({ url: base })],
    });
  });

  it('serves Swagger UI from the installed package, under a policy allowing only this origin', async () => {
    const page = await fetch(`${base}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(
      /default-src 'none'; script-src 'self'; style-src 'self'/,
    );
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] as string);
    expect(assets.sort()).toEqual([
      '/docs/favicon-32x32.png',
      '/docs/init.js',
      '/docs/swagger-ui-bundle.js',
      '/docs/swagger-ui.css',
    ]);
    for (const asset of assets) {
      const response = await fetch(`${base}${asset}`);
      expect([asset, response.status]).toEqual([asset, 200]);
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
    expect(await (await fetch(`${base}/docs/init.js`)).text()).toContain("url: '/openapi.json'");
  });

  it('answers other methods with 405 and other paths with the API 404, as the API does', async () => {
    const post = await fetch(`${base}/openapi.json`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(((await post.json()) as { error: { code: string } }).error.code).toBe('METHOD_NOT_ALLOWED');
    const head = await fetch(`${base}/docs`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    for (const missing of [
      '/docs/index.html',
      '/docs/../package.json',
      '/docs/swagger-ui.js.map',
      '/openapi.yaml',
    ]) {
      const response = await fetch(`${base}${missing}`);
      expect([missing, response.status]).toEqual([missing, 404]);
    }
    // The API's own paths still need a token.
    expect((await fetch(`${base}/v1/children/9990000018`)).status).toBe(401);
  });
});
