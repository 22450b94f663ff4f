/**
 * The clinician web view, locally: `npm start` serves the built page (web/dist) at /web/ on the API's own
 * origin (so no CORS), with /web/config.json naming the local provider's cis2 issuer. The page is built
 * first when web/dist is missing or older than its sources.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { apiErrors, baseHeaders, errorResult } from '../functions/http/errors';
import { webViewContentSecurityPolicy } from '../web/content-security-policy';
import { fileAnswer, pageSecurityHeaders, refuseUnlessRead } from './page-answers';

const ROOT = nodePath.resolve(nodePath.dirname(fileURLToPath(import.meta.url)), '..');
export const WEB_DIR = nodePath.join(ROOT, 'web');
export const WEB_DIST = nodePath.join(WEB_DIR, 'dist');
export const WEB_PATH = '/web/';

export interface WebViewOptions {
  /** The issuer the page signs in with (the local provider's cis2 issuer). */
  issuer: string;
  clientId?: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

async function newestSource(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = nodePath.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? await newestSource(full) : (await stat(full)).mtimeMs);
  }
  return newest;
}

/** Whether web/dist is missing or older than any source of the page. */
export async function webViewStale(): Promise<boolean> {
  const built = await stat(nodePath.join(WEB_DIST, 'index.html')).catch(() => undefined);
  if (!built) return true;
  return (await newestSource(WEB_DIR)) > built.mtimeMs;
}

const LOCAL_DIR = nodePath.join(ROOT, '.local');
const LOCK = nodePath.join(LOCAL_DIR, 'web-build.lock');
/** A lock older than this was left by a build that died. */
const LOCK_STALE_MS = 5 * 60_000;

/** Runs `build` holding a lock file, so that two `npm start`s (or a test beside one) never build at once. */
async function withBuildLock(build: () => Promise<void>): Promise<void> {
  await mkdir(LOCAL_DIR, { recursive: true });
  for (;;) {
    try {
      const handle = await open(LOCK, 'wx');
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const held = await stat(LOCK).catch(() => undefined);
      if (held && Date.now() - held.mtimeMs > LOCK_STALE_MS) await rm(LOCK, { force: true });
      else await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    await build();
  } finally {
    await rm(LOCK, { force: true });
  }
}

/** Builds the page with `npm run build:web`'s configuration into `outDir`. */
export function buildWebView(outDir: string): Promise<void> {
  const vite = nodePath.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const config = nodePath.join(WEB_DIR, 'vite.config.ts');
  return new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [vite, 'build', '--config', config, '--outDir', outDir], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => {
      errors += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`Building the web view failed (npm run build:web):\n${errors}`)),
    );
  });
}

/**
 * Builds the page (vite) when it is missing or stale; resolves once web/dist is current. It builds into
 * a directory of its own and then swaps it in, so a page being served is never half-written.
 */
export async function ensureWebViewBuilt(): Promise<void> {
  if (!(await webViewStale())) return;
  await withBuildLock(async () => {
    // Another process may have built it while this one waited for the lock.
    if (!(await webViewStale())) return;
    const fresh = await mkdtemp(nodePath.join(LOCAL_DIR, 'web-dist-'));
    try {
      await buildWebView(fresh);
      const old = `${fresh}-old`;
      await rename(WEB_DIST, old).catch(() => undefined);
      await rename(fresh, WEB_DIST);
      await rm(old, { recursive: true, force: true });
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });
}

/**
 * Answers the web view's paths (/web, /web/, its assets, /web/config.json), or undefined for any other
 * path. Only files under web/dist are served; a path that leaves it is no file.
 */
export function webViewResponder(options: WebViewOptions) {
  const config = JSON.stringify({
    issuer: options.issuer,
    clientId: options.clientId ?? 'web-view',
    apiBaseUrl: '',
  });
  const security = pageSecurityHeaders(webViewContentSecurityPolicy(options.issuer, { https: false }));
  return (
    method: string,
    pathname: string,
    requestId: string,
  ): Promise<APIGatewayProxyResult> | undefined => {
    if (pathname !== '/web' && !pathname.startsWith(WEB_PATH)) return undefined;
    const refused = refuseUnlessRead(method, requestId);
    if (refused) return Promise.resolve(refused);
    if (pathname === '/web')
      return Promise.resolve({
        statusCode: 308,
        headers: { ...baseHeaders(requestId), Location: WEB_PATH },
        body: '',
      });
    const relative = pathname.slice(WEB_PATH.length) || 'index.html';
    const answer = (type: string, body: Buffer) => fileAnswer(requestId, type, body, security);
    if (relative === 'config.json') return Promise.resolve(answer('application/json', Buffer.from(config)));
    const file = nodePath.resolve(WEB_DIST, relative);
    const type = CONTENT_TYPES[nodePath.extname(file)];
    if (!file.startsWith(`${WEB_DIST}${nodePath.sep}`) || !type)
      return Promise.resolve(errorResult(apiErrors.notFound(`No file ${pathname}`), requestId));
    return readFile(file).then(
      (body) => answer(type, body),
      () => errorResult(apiErrors.notFound(`No file ${pathname}`), requestId),
    );
  };
}

export type WebViewResponder = ReturnType<typeof webViewResponder>;
