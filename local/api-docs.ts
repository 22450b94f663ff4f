/**
 * The OpenAPI document and the API reference page (Swagger UI) the local runtime serves beside the
 * API, outside its `/v1` paths and without a token. Local runtime only.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { fileAnswer, pageSecurityHeaders, refuseUnlessRead } from './page-answers';

const ROOT = nodePath.resolve(nodePath.dirname(fileURLToPath(import.meta.url)), '..');
const OPENAPI_FILE = nodePath.join(ROOT, 'openapi.json');
// Resolved on first use, so that loading the adapter never depends on the docs package.
const swaggerUiDir = () =>
  nodePath.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** Swagger UI's assets, served from the installed package (no CDN): only these names, so no traversal. */
const DOCS_ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const DOCS_PAGE = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Child protection information sharing API (local)</title>
    <link rel="stylesheet" href="/docs/swagger-ui.css">
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

// A file of its own rather than an inline script, so the page's policy can allow scripts from self only.
const DOCS_INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  persistAuthorization: false,
  presets: [SwaggerUIBundle.presets.apis],
});
`;

/**
 * Only this origin: Swagger UI's stylesheet embeds its icons as data: images, and "Try it out"
 * calls the API on the same origin.
 */
const DOCS_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

type DocsContent = { type: string; body: () => Promise<Buffer> };

function docsContent(pathname: string, request: IncomingMessage): DocsContent | undefined {
  if (pathname === '/openapi.json') {
    return { type: 'application/json', body: () => openApiDocument(request) };
  }
  if (pathname === '/docs' || pathname === '/docs/') {
    return { type: 'text/html; charset=utf-8', body: async () => Buffer.from(DOCS_PAGE) };
  }
  if (pathname === '/docs/init.js') {
    return { type: 'text/javascript; charset=utf-8', body: async () => Buffer.from(DOCS_INIT) };
  }
  const asset = pathname.startsWith('/docs/') ? pathname.slice('/docs/'.length) : undefined;
  const type = asset && Object.hasOwn(DOCS_ASSETS, asset) ? DOCS_ASSETS[asset] : undefined;
  if (asset && type) return { type, body: () => readFile(nodePath.join(swaggerUiDir(), asset)) };
  return undefined;
}

/**
 * The committed openapi.json, read on each request (so `npm run openapi` shows without a restart),
 * its servers replaced by this instance, so that "Try it out" calls the port it runs on.
 */
async function openApiDocument(request: IncomingMessage): Promise<Buffer> {
  const document = JSON.parse(await readFile(OPENAPI_FILE, 'utf8')) as Record<string, unknown>;
  const { localAddress, localPort } = request.socket;
  const host = localAddress?.includes(':') ? `[${localAddress}]` : localAddress;
  document.servers = [{ url: `http://${host}:${localPort}`, description: 'This local runtime (npm start)' }];
  return Buffer.from(`${JSON.stringify(document, null, 2)}\n`);
}

/** The docs paths' answer, or undefined for any other path (left to the API's routing). */
export function docsResponse(
  method: string,
  pathname: string,
  request: IncomingMessage,
  requestId: string,
): Promise<APIGatewayProxyResult> | undefined {
  const content = docsContent(pathname, request);
  if (!content) return undefined;
  const refused = refuseUnlessRead(method, requestId);
  if (refused) return Promise.resolve(refused);
  const headers = content.type.startsWith('text/html') ? pageSecurityHeaders(DOCS_POLICY) : {};
  return content.body().then((body) => fileAnswer(requestId, content.type, body, headers));
}
