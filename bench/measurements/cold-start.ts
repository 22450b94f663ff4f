/**
 * Cold start: every handler in functions/ bundled as a deployment would bundle it (esbuild, ESM, node20,
 * SDK included, minified), then timed in a fresh Node process from `import` to the answer to its first
 * representative event, against two bare handler bundles: one that only creates the same SDK clients and
 * answers, and one that makes the very calls the handler's first event makes. Bundle sizes beside.
 */

import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import { BUNDLE_ALIASES } from '../../stacks/constructs/lambda-bundling';
import { BENCH_COUNCIL, publishPlan } from '../../testkit/councils';
import { benchNhsNumber } from '../../testkit/nhs-numbers';
import { type Claims, longLivedToken } from '../../testkit/tokens';
import { auditorClaims, clinicianClaims, councilClaims, demographicsClaims } from '../lib/callers';
import { REPO_ROOT } from '../lib/child';
import { setupApi } from '../lib/http';
import { SEED_RANGES } from '../lib/nhs';
import { registerCouncils } from '../lib/seed';
import { median, round } from '../lib/stats';
import { accessRecordInsert } from '../lib/stream-records';
import type { BenchContext, Measurement } from '../lib/types';

export const COLD_COUNCIL = 'BENCHCLD';
const ESM_REQUIRE_BANNER =
  "import { createRequire as __benchCreateRequire } from 'node:module'; const require = __benchCreateRequire(import.meta.url);";

/** SDK clients a bundle creates, from the packages esbuild pulled into it. */
const CLIENTS = {
  dynamodb: { input: 'node_modules/@aws-sdk/client-dynamodb/' },
  documents: { input: 'node_modules/@aws-sdk/lib-dynamodb/' },
  sqs: { input: 'node_modules/@aws-sdk/client-sqs/' },
} as const;
type ClientName = keyof typeof CLIENTS;

function bareSource(clients: ClientName[]): string {
  const lines: string[] = [];
  if (clients.includes('dynamodb')) lines.push("import { DynamoDBClient } from '@aws-sdk/client-dynamodb';");
  if (clients.includes('documents'))
    lines.push("import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';");
  if (clients.includes('sqs')) lines.push("import { SQSClient } from '@aws-sdk/client-sqs';");
  lines.push('export const clients: unknown[] = [];');
  if (clients.includes('dynamodb')) {
    lines.push(
      clients.includes('documents')
        ? 'clients.push(DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }));'
        : 'clients.push(new DynamoDBClient({}));',
    );
  }
  if (clients.includes('sqs')) lines.push('clients.push(new SQSClient({ useQueueUrlAsEndpoint: false }));');
  lines.push(
    "export const handler = async () => ({ statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: '{}' });",
  );
  return lines.join('\n');
}

const SPECIAL_EVENTS = ['authorizer', 'dispatch'];

/**
 * Bundles to time. `as-is` is the code as it stands; the others are what-ifs (`--what-if <id>`): the
 * same code with one proposed change applied at bundle time, as evidence for that change.
 */
interface Variant {
  id: string;
  label: string;
  /** Run with --enable-source-maps (the deployed functions are not; their maps are decoded offline). */
  runtimeSourceMaps: boolean;
  /** esbuild options that differ from the stack's. */
  build?: BuildOptions;
}

/** A variant by id; `a+b` combines what-ifs a and b. */
function variantFor(id: string): Variant | undefined {
  const parts = id.split('+').map((part) => VARIANTS.find((variant) => variant.id === part));
  if (parts.some((part) => !part || part.id === 'as-is')) return undefined;
  const chosen = parts as Variant[];
  if (chosen.length === 1) return chosen[0];
  return {
    id,
    label: ` (what-if: ${chosen.map((part) => part.label.replace(/^ \(what-if: |\)$/g, '')).join(' and ')})`,
    runtimeSourceMaps: chosen.some((part) => part.runtimeSourceMaps),
    build: Object.assign({}, ...chosen.map((part) => part.build)),
  };
}

const VARIANTS: Variant[] = [
  { id: 'as-is', label: '', runtimeSourceMaps: false },
  {
    id: 'source-maps',
    label: ' (what-if: NODE_OPTIONS=--enable-source-maps)',
    runtimeSourceMaps: true,
  },
  {
    id: 'hand-written-logger',
    label: ' (what-if: Powertools Logger replaced by a hand-written JSON line)',
    runtimeSourceMaps: false,
    build: { plugins: [handWrittenLogger()] },
  },
  {
    id: 'keep-names',
    label: ' (what-if: identifiers not minified)',
    runtimeSourceMaps: false,
    build: { minify: false, minifyWhitespace: true, minifySyntax: true, minifyIdentifiers: false },
  },
];

/** The `hand-written-logger` what-if: functions/observability.ts and the logger middleware resolved to bench/lib/hand-written-logger.ts. */
function handWrittenLogger(): Plugin {
  const standIn = path.join(REPO_ROOT, 'bench', 'lib', 'hand-written-logger.ts');
  return {
    name: 'hand-written-logger',
    setup(build) {
      build.onResolve({ filter: /^(\.\.?\/)+observability$/ }, () => ({ path: standIn }));
      build.onResolve({ filter: /^@aws-lambda-powertools\/logger\/middleware$/ }, () => ({ path: standIn }));
    },
  };
}

/**
 * Times and lists the calls a bundle makes, from inside it: wraps the one `send` every SDK client
 * inherits (smithy's Client), so that the probe can report how long at least one call was in flight
 * during the first event and how many calls were made, and records each call's operation with the shape
 * of its request as sent (`callShape`); a banner counts `fetch` calls (the authorizer's identity calls).
 * Used for diagnostic bundles only: the gated figures time the bundles exactly as the stack builds them.
 */
const SDK_CLIENT_FILE = /smithy-client[\\/]client\.js$/;
const TIMER_INIT =
  'globalThis.__benchSdkCalls ??= { ms: 0, calls: 0, inFlight: 0, since: 0, fetches: 0, operations: [] }';
/**
 * A request body's shape: its members (sorted) and their kinds, with the expressions, numbers and
 * booleans it holds but not its strings (keys, ids, times differ from one event to the next).
 */
const CALL_SHAPE = `function callShape(value, key) {
  if (Array.isArray(value)) return '[' + value.map((item) => callShape(item)).join(',') + ']';
  if (value && typeof value === 'object')
    return '{' + Object.keys(value).sort().map((name) => name + ':' + callShape(value[name], name)).join(',') + '}';
  if (typeof value === 'string') return /Expression$|^ReturnValues/.test(key ?? '') ? JSON.stringify(value) : 's';
  return JSON.stringify(value);
}`;
const FETCH_COUNTER = `{
  ${TIMER_INIT};
  const benchFetch = globalThis.fetch;
  globalThis.fetch = function (input, init) {
    const timer = globalThis.__benchSdkCalls;
    timer.fetches++;
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    timer.operations.push('fetch ' + (init?.method ?? 'GET') + ' ' + url.pathname);
    return benchFetch.apply(this, arguments);
  };
}`;
const SDK_TIMER: Plugin = {
  name: 'bench-sdk-timer',
  setup(esbuild) {
    esbuild.onLoad({ filter: SDK_CLIENT_FILE }, async (args) => ({
      contents: `${await readFile(args.path, 'utf8')}
{
  ${CALL_SHAPE}
  const send = Client.prototype.send;
  Client.prototype.send = function (...args) {
    const timer = (${TIMER_INIT});
    if (timer.inFlight++ === 0) timer.since = performance.now();
    timer.calls++;
    args[0]?.middlewareStack?.add(
      (next, context) => (request) => {
        let body = request.request?.body;
        try {
          body = callShape(JSON.parse(body));
        } catch {
          body = typeof body;
        }
        timer.operations.push(context.commandName + ' ' + body);
        return next(request);
      },
      { step: 'build', name: 'benchCallShape', override: true },
    );
    const settle = () => {
      if (--timer.inFlight === 0) timer.ms += performance.now() - timer.since;
    };
    let result;
    try {
      result = send.apply(this, args);
    } catch (error) {
      settle();
      throw error;
    }
    if (result && typeof result.then === 'function') return result.finally(settle);
    settle();
    return result;
  };
}`,
      loader: 'js',
    }));
  },
};

/** What the DynamoDB bares share: bench/lib/direct-ops.ts (the store's keys and item builders) and the caller. */
const CALL_BARE_PRELUDE = `
import * as direct from './bench/lib/direct-ops';
const table = process.env.TABLE_NAME;
const claimsOf = (event: { requestContext: { authorizer: Record<string, string> } }) => {
  const a = event.requestContext.authorizer;
  return { sub: a.sub, name: a.name, org: a.org, role: a.role, activities: a.activities ? (JSON.parse(a.activities) as string[]) : [], setting: a.setting || undefined };
};
const answer = { statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: '{}' };
`;
const dynamoBare = (body: string) => ({
  label: 'the same DynamoDB calls',
  source: `${CALL_BARE_PRELUDE}
export const handler = async (event) => {
  const p = event.pathParameters;
  ${body}
  return answer;
};`,
});

/**
 * Bare handlers that make the same calls as a real one's first event (same commands, parameters and
 * item shapes, checked on every repeat: `checkCalls`): the floor of its first event that the SDK, the
 * emulator and the token check set, whatever the handler's own code does. Each answers its fixture only.
 */
const CALL_BARES: Record<string, { label: string; source: string }> = {
  authorizer: {
    label: 'the same token verification (discovery, JWKS and UserInfo with jose and fetch)',
    source: `
import { createRemoteJWKSet, jwtVerify } from 'jose';
export const handler = async (event) => {
  const token = event.authorizationToken.slice('Bearer '.length);
  const discovery = await (await fetch(process.env.LOCAL_IDENTITY_ORIGIN + '/cis2/.well-known/openid-configuration', { signal: AbortSignal.timeout(5000) })).json();
  await jwtVerify(token, createRemoteJWKSet(new URL(discovery.jwks_uri), { timeoutDuration: 5000 }));
  await (await fetch(discovery.userinfo_endpoint, { headers: { Authorization: 'Bearer ' + token, Accept: 'application/json' }, signal: AbortSignal.timeout(5000) })).json();
  return { principalId: 'bench', policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: '*' }] } };
};`,
  },
  dispatch: {
    label: 'the same SQS calls',
    source: `
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { councilQueueName } from './functions/notify/queue-names';
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
export const handler = async (event) => {
  for (const record of event.Records) {
    for (const message of unmarshall(record.dynamodb.NewImage).messages) {
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: councilQueueName(process.env.COUNCIL_QUEUE_NAME_PREFIX, message.councilCode) }));
      const attribute = (value) => ({ DataType: 'String', StringValue: value });
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(message), MessageAttributes: { type: attribute(message.type), eventId: attribute(message.eventId) } }));
    }
  }
  return { batchItemFailures: [] };
};`,
  },
  // It makes no call: its floor is a handler that answers at once.
  'fhir-metadata': {
    label: 'no call, as the handler makes none (it answers at once)',
    source: bareSource([]),
  },
  lookup: dynamoBare('await direct.directLookup(table, p.nhsNumber, claimsOf(event));'),
  // The CareTeam search runs the lookup's use case: the same calls as the lookup.
  'fhir-search': dynamoBare(
    "await direct.directLookup(table, event.queryStringParameters['patient:identifier'].split('|')[1], claimsOf(event));",
  ),
  'council-read-back': dynamoBare('await direct.directReadRegistration(table, p.councilCode);'),
  'council-accesses': dynamoBare(
    'await direct.directCouncilAccesses(table, p.councilCode, p.nhsNumber, claimsOf(event));',
  ),
  'audit-query': dynamoBare(
    'await direct.directAuditPage(table, p.nhsNumber, Number(event.queryStringParameters.limit));',
  ),
  'put-plan': dynamoBare(
    'await direct.directPublish(table, p.councilCode, p.nhsNumber, p.planType, JSON.parse(event.body).startDate, claimsOf(event));',
  ),
  'delete-plan': dynamoBare(
    'await direct.directRemovePlan(table, p.councilCode, p.nhsNumber, p.planType, claimsOf(event));',
  ),
  'register-council': dynamoBare(`const body = JSON.parse(event.body);
  await direct.directRegisterCouncil(table, { code: p.councilCode, name: body.name, officeHoursPhone: body.officeHoursPhone ?? null, emergencyDutyPhone: body.emergencyDutyPhone }, claimsOf(event));`),
  sensitivity: dynamoBare(
    'await direct.directSetSensitivity(table, p.nhsNumber, JSON.parse(event.body).sensitive, claimsOf(event));',
  ),
  supersede: dynamoBare(
    'await direct.directSupersede(table, p.oldNhsNumber, p.newNhsNumber, claimsOf(event));',
  ),
  upload: dynamoBare(
    'await direct.directUpload(table, p.councilCode, JSON.parse(event.body).records, claimsOf(event));',
  ),
};

interface Bundle {
  file: string;
  bytes: number;
  clients: ClientName[];
}

/**
 * Bundles one entry as stacks/constructs/service-function.ts does (ESM, minified, SDK bundled, linked
 * source map file without sources, not loaded at run time). Profiled runs
 * bundle unminified, so that bench/profile-summary.ts can attribute time to source modules through
 * esbuild's `// path` comments.
 */
async function bundle(
  out: string,
  entry: { file: string } | { source: string; name: string },
  options: { profiling: boolean; build?: BuildOptions; timeSdkCalls?: boolean },
): Promise<Bundle> {
  const result = await build({
    ...('file' in entry
      ? { entryPoints: [entry.file] }
      : {
          stdin: {
            contents: entry.source,
            resolveDir: REPO_ROOT,
            sourcefile: `${entry.name}.ts`,
            loader: 'ts',
          },
        }),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    mainFields: ['module', 'main'],
    // The stack's aliases (its esbuild runs in the repository root, against which they are written).
    alias: Object.fromEntries(
      Object.entries(BUNDLE_ALIASES).map(([name, file]) => [name, path.join(REPO_ROOT, file)]),
    ),
    minify: !options.profiling,
    ...(options.profiling ? {} : options.build),
    sourcemap: true,
    sourcesContent: false,
    legalComments: 'none',
    metafile: true,
    // A what-if's plugins apply to profiled bundles too (its other options do not).
    plugins: [...(options.timeSdkCalls ? [SDK_TIMER] : []), ...(options.build?.plugins ?? [])],
    banner: { js: options.timeSdkCalls ? `${ESM_REQUIRE_BANNER}\n${FETCH_COUNTER}` : ESM_REQUIRE_BANNER },
    outfile: out,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  const clients = (Object.keys(CLIENTS) as ClientName[]).filter((name) =>
    inputs.some((input) => input.includes(CLIENTS[name].input)),
  );
  // Without this check, an SDK that moved its Client would leave the timer out and every call untimed.
  if (options.timeSdkCalls && clients.length > 0 && !inputs.some((input) => SDK_CLIENT_FILE.test(input)))
    throw new Error(`${out}: no ${SDK_CLIENT_FILE} among its inputs for the SDK timer to wrap`);
  return { file: out, bytes: (await stat(out)).size, clients };
}

type BundleJob = [key: string, build: () => Promise<Bundle>];

/** Builds bundles side by side (esbuild runs them in parallel), keyed in the order given. */
async function bundleAll(builds: BundleJob[]): Promise<Map<string, Bundle>> {
  const built = await Promise.all(builds.map(([, build]) => build()));
  return new Map(builds.map(([key], i) => [key, built[i] as Bundle]));
}

/** Handler entries: functions/<name>.ts files that export `handler`. */
async function handlerEntries(): Promise<string[]> {
  const dir = path.join(REPO_ROOT, 'functions');
  const names: string[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.ts')).sort()) {
    const text = await readFile(path.join(dir, file), 'utf8');
    if (/export\s+(const|async function|function)\s+handler\b/.test(text))
      names.push(file.replace(/\.ts$/, ''));
  }
  return names;
}

interface ApiFixture {
  claims: Claims;
  params: Record<string, string>;
  body?: unknown;
  query?: Record<string, string>;
}

/** A representative request per API entry, fresh for repetition i. */
const API_FIXTURES: Record<string, (i: number) => ApiFixture> = {
  lookup: () => ({
    claims: clinicianClaims(['B0107']),
    params: { nhsNumber: benchNhsNumber(SEED_RANGES.cold) },
  }),
  'put-plan': (i) => ({
    claims: councilClaims(COLD_COUNCIL),
    params: {
      councilCode: COLD_COUNCIL,
      nhsNumber: benchNhsNumber(SEED_RANGES.cold + 1_000 + i),
      planType: 'CPP',
    },
    body: { startDate: '2025-01-01' },
  }),
  'delete-plan': (i) => ({
    claims: councilClaims(COLD_COUNCIL),
    params: {
      councilCode: COLD_COUNCIL,
      nhsNumber: benchNhsNumber(SEED_RANGES.cold + 2_000 + i),
      planType: 'CPP',
    },
  }),
  'register-council': (i) => {
    const code = `BCLD${String(i).padStart(4, '0')}`;
    return { claims: councilClaims(code), params: { councilCode: code }, body: BENCH_COUNCIL };
  },
  'audit-query': () => ({
    claims: auditorClaims,
    params: { nhsNumber: benchNhsNumber(SEED_RANGES.cold) },
    query: { limit: '50' },
  }),
  sensitivity: (i) => ({
    claims: demographicsClaims,
    params: { nhsNumber: benchNhsNumber(SEED_RANGES.cold + 3_000 + i) },
    body: { sensitive: true },
  }),
  supersede: (i) => ({
    claims: demographicsClaims,
    params: {
      oldNhsNumber: benchNhsNumber(SEED_RANGES.cold + 4_000 + i),
      newNhsNumber: benchNhsNumber(SEED_RANGES.cold + 5_000 + i),
    },
  }),
  // Each entry's first route (routeByEntry): the registration read back, the CareTeam search (an
  // unscheduled-care access, as the lookup's fixture), the public CapabilityStatement.
  'council-read-back': () => ({
    claims: councilClaims(COLD_COUNCIL),
    params: { councilCode: COLD_COUNCIL },
  }),
  'council-accesses': () => ({
    claims: councilClaims(COLD_COUNCIL),
    params: { councilCode: COLD_COUNCIL, nhsNumber: benchNhsNumber(SEED_RANGES.cold) },
  }),
  'fhir-search': () => ({
    claims: clinicianClaims(['B0107']),
    params: {},
    query: { 'patient:identifier': `https://fhir.nhs.uk/Id/nhs-number|${benchNhsNumber(SEED_RANGES.cold)}` },
  }),
  'fhir-metadata': () => ({ claims: clinicianClaims(['B0107']), params: {} }),
  upload: (i) => ({
    claims: councilClaims(COLD_COUNCIL),
    params: { councilCode: COLD_COUNCIL },
    body: {
      mode: 'delta',
      records: Array.from({ length: 20 }, (_, k) => ({
        nhsNumber: benchNhsNumber(SEED_RANGES.cold + 10_000 + i * 20 + k),
        planType: 'CPP',
        startDate: '2025-01-01',
      })),
    },
  }),
};

async function apiEvent(entry: string, fixture: ApiFixture): Promise<APIGatewayProxyEvent> {
  const { routeByEntry } = await import('../../functions/http/routes');
  const { authorizerContext } = await import('../../functions/authorizer');
  const route = routeByEntry(entry as Parameters<typeof routeByEntry>[0]);
  const requestPath = route.path.replace(/\{(\w+)\}/g, (_, name: string) => fixture.params[name] ?? name);
  // A public route (the FHIR CapabilityStatement) is called without a token and no authorizer runs.
  const headers: Record<string, string> = route.public
    ? { Host: 'localhost' }
    : { Authorization: `Bearer ${await longLivedToken(fixture.claims)}`, Host: 'localhost' };
  if (fixture.body !== undefined) headers['Content-Type'] = 'application/json';
  const claims = { ...fixture.claims, activities: fixture.claims.activities } as Parameters<
    typeof authorizerContext
  >[0];
  return {
    resource: route.path,
    path: requestPath,
    httpMethod: route.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: fixture.query ?? null,
    multiValueQueryStringParameters: fixture.query
      ? Object.fromEntries(Object.entries(fixture.query).map(([k, v]) => [k, [v]]))
      : null,
    pathParameters: fixture.params,
    stageVariables: null,
    body: fixture.body === undefined ? null : JSON.stringify(fixture.body),
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      authorizer: route.public
        ? null
        : {
            principalId: fixture.claims.sub,
            ...authorizerContext(claims, Math.floor(Date.now() / 1000) + 3600),
          },
      httpMethod: route.method,
      identity: { sourceIp: '127.0.0.1' } as APIGatewayProxyEvent['requestContext']['identity'],
      path: requestPath,
      protocol: 'HTTP/1.1',
      requestId: `cold-${entry}-${Date.now()}`,
      requestTimeEpoch: Date.now(),
      resourceId: entry,
      resourcePath: route.path,
      stage: 'bench',
    },
  };
}

async function specialEvent(entry: string, i: number): Promise<unknown | undefined> {
  if (entry === 'authorizer') {
    return {
      type: 'TOKEN',
      authorizationToken: `Bearer ${await longLivedToken(clinicianClaims(['B0107']))}`,
      methodArn: `arn:aws:execute-api:eu-west-2:000000000000:bench/bench/GET/v1/children/${benchNhsNumber(SEED_RANGES.cold)}`,
    };
  }
  if (entry === 'dispatch') {
    const record = accessRecordInsert({
      councilCode: COLD_COUNCIL,
      nhsNumber: benchNhsNumber(SEED_RANGES.cold),
      eventId: `01BENCHCOLD${String(i).padStart(15, '0')}`,
      sequence: 100000 + i,
    });
    return { Records: [record] };
  }
  return undefined;
}

interface Probe {
  importMs: number;
  firstEventMs: number;
  totalMs: number;
  bootMs: number;
  status: string;
  /**
   * From bundles built with SDK_TIMER: time with an SDK call in flight, the number of SDK calls and of
   * `fetch` calls, and each call's operation and request shape, in the order they were sent.
   */
  sdk?: { ms: number; calls: number; fetches: number; operations: string[] };
}

/** The calls a timed probe made, in an order that does not depend on which of two concurrent calls went first. */
const callsOf = (p: Probe): string[] => [...(p.sdk?.operations ?? [])].sort();

/** Operation names only (`QueryCommand`, `fetch GET /path`), for the report. */
const operationNames = (calls: string[]) =>
  calls.map((call) => (call.startsWith('fetch ') ? call : call.slice(0, call.indexOf(' '))));

async function probe(
  ctx: BenchContext,
  probeFile: string,
  bundleFile: string,
  event: unknown,
  tag: string,
  runtimeSourceMaps = false,
): Promise<Probe> {
  const eventFile = path.join(ctx.workDir, `cold-event-${tag}.json`);
  const resultFile = path.join(ctx.workDir, `cold-result-${tag}.json`);
  await writeFile(eventFile, JSON.stringify(event));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TABLE_NAME: ctx.server.tableName,
    COUNCIL_QUEUE_NAME_PREFIX: ctx.server.queuePrefix,
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO',
  };
  delete env.NODE_OPTIONS;
  const profile = ctx.profileDir
    ? ['--cpu-prof', '--cpu-prof-dir', ctx.profileDir, '--cpu-prof-name', `cold-${tag}.cpuprofile`]
    : [];
  const flags = [...(runtimeSourceMaps ? ['--enable-source-maps'] : []), ...profile];
  // Not spawnSync: the local identity provider runs in this process and must answer the probe's
  // authorizer (discovery, keys, UserInfo) while it waits.
  const run = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [...flags, probeFile, bundleFile, eventFile, resultFile],
      { env, encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, _stdout, stderr) =>
        resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr }),
    );
  });
  if (run.status !== 0)
    throw new Error(`cold probe of ${bundleFile} exited ${run.status}: ${run.stderr.slice(-2000)}`);
  return JSON.parse(await readFile(resultFile, 'utf8')) as Probe;
}

export const coldStartMeasurement: Measurement = {
  id: 'cold-start',
  title:
    'Cold start of each bundled handler vs bare handlers creating the same SDK clients or making the same calls',
  async run(ctx) {
    const repeats = ctx.settings.coldStartRepeats;
    const dir = path.join(ctx.workDir, 'bundles');
    await mkdir(dir, { recursive: true });
    const probeFile = path.join(dir, 'cold-probe.mjs');
    await build({
      entryPoints: [path.join(REPO_ROOT, 'bench', 'cold-probe.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: probeFile,
      logLevel: 'silent',
    });

    // State the events need: a council with a queue, a child with a plan, plans to delete.
    await registerCouncils(ctx.server.url, [COLD_COUNCIL]);
    const councilToken = await longLivedToken(councilClaims(COLD_COUNCIL));
    const api = setupApi(ctx.server.url);
    const publish = async (seed: number) => {
      const response = await publishPlan(
        api,
        COLD_COUNCIL,
        benchNhsNumber(seed),
        'CPP',
        { startDate: '2025-01-01' },
        { token: councilToken },
      );
      if (response.status !== 201 && response.status !== 200)
        throw new Error(`publishing ${seed}: ${response.status}`);
    };
    await publish(SEED_RANGES.cold);
    await ctx.server.drained();
    // Every probe gets its own fixture number, so no two probes share an NHS number to create or delete.
    let nextFixture = 0;
    const eventFor = async (entry: string) => {
      const n = nextFixture++;
      if (entry === 'delete-plan') await publish(SEED_RANGES.cold + 2_000 + n);
      const fixture = API_FIXTURES[entry];
      return fixture ? apiEvent(entry, fixture(n)) : specialEvent(entry, n);
    };

    const entries = await handlerEntries();
    const variants = [VARIANTS[0] as Variant, ...[...ctx.whatIf].flatMap((id) => variantFor(id) ?? [])];
    const profiling = Boolean(ctx.profileDir);
    // esbuild builds in parallel: one batch of every bundle but the bares, whose clients come from these.
    const bundles = await bundleAll(
      variants.flatMap((variant) =>
        entries.map(
          (entry): BundleJob => [
            `${variant.id}:${entry}`,
            () =>
              bundle(
                path.join(dir, variant.id, entry, 'index.mjs'),
                { file: path.join(REPO_ROOT, 'functions', `${entry}.ts`) },
                { profiling, build: variant.build },
              ),
          ],
        ),
      ),
    );
    const bareClients = new Map(
      [...bundles.values()].map(({ clients }) => [clients.join('+') || 'none', clients] as const),
    );
    const bares = await bundleAll(
      [...bareClients].map(
        ([key, clients]): BundleJob => [
          key,
          () =>
            bundle(
              path.join(dir, `bare-${key}`, 'index.mjs'),
              { source: bareSource(clients), name: `bare-${key}` },
              { profiling },
            ),
        ],
      ),
    );
    const bareFor = (entry: string) =>
      bares.get((bundles.get(`as-is:${entry}`) as Bundle).clients.join('+') || 'none') as Bundle;

    const hasEvent = (entry: string) => Boolean(API_FIXTURES[entry]) || SPECIAL_EVENTS.includes(entry);
    const measured = entries.filter(hasEvent);
    const withoutBare = measured.filter((entry) => !CALL_BARES[entry]);
    if (withoutBare.length > 0)
      throw new Error(`Cold start: no same-calls bare for ${withoutBare.join(', ')} (add one to CALL_BARES)`);
    // The quick (smoke) mode probes three handlers of different kinds, to stay within its minute; the
    // full mode probes every handler and checks every same-calls bare's calls on every repeat.
    const gated = measured.filter(
      (entry) => ctx.settings.mode !== 'quick' || ['lookup', 'authorizer', 'dispatch'].includes(entry),
    );
    const skipped = entries.filter((entry) => !hasEvent(entry));
    // The same-calls bares, bundled as the handlers are; and again with the call timer, like the timed
    // handlers, to check on every repeat that each makes the very calls its handler makes. Diagnostic:
    // each handler again with its SDK calls timed, to split its first event into the time the calls
    // were in flight and the time the handler's own code ran, and to list its calls.
    const callBare = (timeSdkCalls: boolean) =>
      bundleAll(
        gated.map((entry): BundleJob => {
          const name = `calls${timeSdkCalls ? '-timed' : ''}-${entry}`;
          const { source } = CALL_BARES[entry] as (typeof CALL_BARES)[string];
          return [
            entry,
            () => bundle(path.join(dir, name, 'index.mjs'), { source, name }, { profiling, timeSdkCalls }),
          ];
        }),
      );
    const [callBares, timedCallBares, timedBundles] = await Promise.all([
      callBare(false),
      callBare(true),
      bundleAll(
        gated.map(
          (entry): BundleJob => [
            entry,
            () =>
              bundle(
                path.join(dir, 'sdk-timed', entry, 'index.mjs'),
                { file: path.join(REPO_ROOT, 'functions', `${entry}.ts`) },
                { profiling, timeSdkCalls: true },
              ),
          ],
        ),
      ),
    ]);
    const samples = new Map<string, Probe[]>();
    const push = (key: string, value: Probe) => samples.set(key, [...(samples.get(key) ?? []), value]);
    const last = (key: string) => samples.get(key)?.at(-1) as Probe;
    /** One probe of a bundle on a fresh event, filed under `<side>:<entry>`. */
    const probeOf =
      (side: string, entry: string, i: number, bundled: Bundle, runtimeSourceMaps = false) =>
      async () =>
        push(
          `${side}:${entry}`,
          await probe(
            ctx,
            probeFile,
            bundled.file,
            await eventFor(entry),
            `${side}-${entry}-${i}`,
            runtimeSourceMaps,
          ),
        );
    /** Stops the measure when a same-calls bare and its handler did not make the very same calls. */
    const checkCalls = (entry: string) => {
      const handler = callsOf(last(`timed:${entry}`));
      const bare = callsOf(last(`calls-timed:${entry}`));
      if (handler.join('\n') === bare.join('\n')) return;
      const at = handler.findIndex((call, index) => call !== bare[index]);
      const first = at < 0 ? handler.length : at;
      throw new Error(
        `Cold start ${entry}: the same-calls bare made other calls than the handler's first event. ` +
          `Handler (${handler.length}): ${operationNames(handler).join(', ')}; bare (${bare.length}): ` +
          `${operationNames(bare).join(', ')}. First difference: handler ${handler[first]?.slice(0, 600)}; ` +
          `bare ${bare[first]?.slice(0, 600)}`,
      );
    };
    /** Per entry and repeat, whether the handler ran before its same-calls bare (for the report). */
    const handlerFirst = new Map<string, boolean[]>();
    for (let i = 0; i < repeats; i++) {
      for (const [index, entry] of gated.entries()) {
        // Alternate the order, by repeat and by entry, so that drift in the machine's speed and whatever
        // the probe before leaves behind fall on both sides alike.
        const forward = (i + index) % 2 === 0;
        const inOrder = <T>(list: T[]) => (forward ? list : [...list].reverse());
        // First the timed pair: it checks the calls before the gated probes run, and in the first repeat
        // it, not a gated probe, makes the emulator's first calls of their kind.
        for (const run of inOrder([
          probeOf('timed', entry, i, timedBundles.get(entry) as Bundle),
          probeOf('calls-timed', entry, i, timedCallBares.get(entry) as Bundle),
        ]))
          await run();
        checkCalls(entry);
        // The handler as deployed between its two bares, so that it is next to each: a pair of
        // adjacent probes, the handler first in one repeat and second in the next.
        const runs = [
          probeOf('bare', entry, i, bareFor(entry)),
          probeOf('as-is', entry, i, bundles.get(`as-is:${entry}`) as Bundle),
          probeOf('calls', entry, i, callBares.get(entry) as Bundle),
          ...variants
            .slice(1)
            .map((variant) =>
              probeOf(
                variant.id,
                entry,
                i,
                bundles.get(`${variant.id}:${entry}`) as Bundle,
                variant.runtimeSourceMaps,
              ),
            ),
        ];
        handlerFirst.set(entry, [...(handlerFirst.get(entry) ?? []), forward]);
        for (const run of inOrder(runs)) await run();
      }
    }

    const med = (list: Probe[], key: 'importMs' | 'firstEventMs' | 'totalMs' | 'bootMs') =>
      round(median(list.map((p) => p[key])), 1);
    const sdkMs = (p: Probe) => p.sdk?.ms ?? 0;
    const medSdk = (list: Probe[]) => round(median(list.map(sdkMs)), 1);
    /** Ratios of the i-th probes of two sides: each pair ran back to back. */
    const pairRatios = (handler: Probe[], baseline: Probe[]) =>
      handler.map((p, i) => round(p.totalMs / (baseline[i] as Probe).totalMs, 3));
    /** A timing is of the path the first event took: say so when that was not a success. */
    const noteUnless = (what: string, statuses: string[]) => {
      if (statuses.some((status) => !/^(2\d\d|Allow|0 failed records)$/.test(status)))
        ctx.note(
          `${what}: the first event answered ${statuses.join(', ')}, not a success; its timing is of that path.`,
        );
    };
    for (const entry of gated) {
      const bare = samples.get(`bare:${entry}`) ?? [];
      const bareBundle = bareFor(entry);
      for (const variant of variants) {
        const handler = samples.get(`${variant.id}:${entry}`) ?? [];
        const handlerBundle = bundles.get(`${variant.id}:${entry}`) as Bundle;
        const clients = handlerBundle.clients.join(' + ') || 'no SDK client';
        const statuses = [...new Set(handler.map((p) => p.status))];
        ctx.record({
          id: `cold-start.${entry}${variant.id === 'as-is' ? '' : `.${variant.id}`}`,
          label: `cold start ${entry}${variant.label}: import + first event (median of ${handler.length})`,
          unit: 'ms',
          value: med(handler, 'totalMs'),
          baseline: { label: `bare handler, ${clients}`, value: med(bare, 'totalMs') },
          // A what-if is evidence for a proposed change, not a measurement of the code as it is.
          ...(variant.id === 'as-is'
            ? { target: { kind: 'ratio' as const, op: '<=' as const, limit: 1.5 } }
            : {}),
          details: {
            handler: {
              importMs: med(handler, 'importMs'),
              firstEventMs: med(handler, 'firstEventMs'),
              totalMs: handler.map((p) => round(p.totalMs, 1)),
            },
            bare: {
              importMs: med(bare, 'importMs'),
              firstEventMs: med(bare, 'firstEventMs'),
              totalMs: bare.map((p) => round(p.totalMs, 1)),
            },
            ...(variant.id === 'as-is' ? { pairRatios: pairRatios(handler, bare) } : {}),
            nodeBootMs: med(handler, 'bootMs'),
            firstEventAnswered: statuses,
            bundleBytes: handlerBundle.bytes,
            bareBundleBytes: bareBundle.bytes,
          },
        });
        noteUnless(`Cold start ${entry}${variant.label}`, statuses);
      }
    }
    for (const entry of gated) {
      const calls = samples.get(`calls:${entry}`) ?? [];
      const timedCalls = samples.get(`calls-timed:${entry}`) ?? [];
      const handler = samples.get(`as-is:${entry}`) ?? [];
      const label = CALL_BARES[entry]?.label;
      noteUnless(`Cold start of the bare handler making ${label} for ${entry}`, [
        ...new Set(calls.map((p) => p.status)),
      ]);
      const ratios = pairRatios(handler, calls);
      const made = callsOf(last(`calls-timed:${entry}`));
      ctx.record({
        id: `cold-start.${entry}.vs-same-calls`,
        label:
          `cold start ${entry} vs a bare handler making ${label}: import + first event, median of ` +
          `${ratios.length} paired ratios (medians ${med(handler, 'totalMs')} and ${med(calls, 'totalMs')} ms)`,
        unit: 'x',
        value: round(median(ratios), 3),
        target: { kind: 'value', op: '<=', limit: 1.15 },
        details: {
          pairRatios: ratios,
          handlerFirst: handlerFirst.get(entry),
          ratioOfMedians: round(med(handler, 'totalMs') / med(calls, 'totalMs'), 3),
          handler: {
            importMs: med(handler, 'importMs'),
            firstEventMs: med(handler, 'firstEventMs'),
            totalMs: handler.map((p) => round(p.totalMs, 1)),
          },
          sameCalls: {
            importMs: med(calls, 'importMs'),
            firstEventMs: med(calls, 'firstEventMs'),
            totalMs: calls.map((p) => round(p.totalMs, 1)),
            sdkInFlightMs: medSdk(timedCalls),
            bundleBytes: (callBares.get(entry) as Bundle).bytes,
          },
          // Checked equal to the handler's on every repeat (shapes of the requests included).
          calls: operationNames(made),
        },
      });
    }
    for (const entry of gated) {
      const timed = samples.get(`timed:${entry}`) ?? [];
      const bare = samples.get(`bare:${entry}`) ?? [];
      noteUnless(`Cold start ${entry} (SDK calls timed)`, [...new Set(timed.map((p) => p.status))]);
      ctx.record({
        id: `cold-start.${entry}.own-share`,
        label: `cold start ${entry} less the time its SDK calls were in flight (diagnostic: the handler's own share)`,
        unit: 'ms',
        value: round(median(timed.map((p) => p.totalMs - sdkMs(p))), 1),
        ...(bare.length > 0
          ? {
              baseline: {
                label: `bare handler, ${bareFor(entry).clients.join(' + ') || 'no SDK client'}`,
                value: med(bare, 'totalMs'),
              },
            }
          : {}),
        details: {
          timed: {
            importMs: med(timed, 'importMs'),
            firstEventMs: med(timed, 'firstEventMs'),
            totalMs: med(timed, 'totalMs'),
            sdkInFlightMs: medSdk(timed),
            sdkCalls: [...new Set(timed.map((p) => p.sdk?.calls ?? 0))],
            fetches: [...new Set(timed.map((p) => p.sdk?.fetches ?? 0))],
            ownFirstEventMs: round(median(timed.map((p) => p.firstEventMs - sdkMs(p))), 1),
          },
        },
      });
    }
    for (const variant of variants) {
      for (const entry of entries) {
        const handlerBundle = bundles.get(`${variant.id}:${entry}`) as Bundle;
        ctx.record({
          id: `cold-start.${entry}.bundle${variant.id === 'as-is' ? '' : `.${variant.id}`}`,
          label: `bundle size ${entry}${variant.label} (${ctx.profileDir ? 'unminified, profiling' : 'minified'} ESM, SDK included, source map not counted)`,
          unit: 'KiB',
          value: round(handlerBundle.bytes / 1024, 1),
          baseline: { label: 'bare handler bundle', value: round(bareFor(entry).bytes / 1024, 1) },
        });
      }
    }
    if (skipped.length) {
      ctx.note(
        `Cold start: no representative event for ${skipped.join(', ')} (add one to API_FIXTURES in bench/measurements/cold-start.ts); bundle size only.`,
      );
    }
    ctx.note(
      'Cold start: each figure is the median over fresh `node` processes of (import of the bundle) + (first ' +
        "invocation, including its real calls to the emulators). Node's own start-up, the same for both, is " +
        'excluded (reported as nodeBootMs). Bundles as stacks/constructs/service-function.ts makes them: esbuild, ESM, minified, SDK bundled, linked ' +
        'source map file, run without --enable-source-maps (as deployed; bare handlers too); target node20, the Node on this machine ' +
        '(deployed: node24). Each handler probe runs back to back with its two bares, between them, first in ' +
        'one repeat and last in the next; a vs-same-calls figure is the median of the per-pair ratios. Every ' +
        "repeat checks, from timed copies of both bundles, that the same-calls bare made the handler's calls " +
        '(operations and request shapes; fetches for the authorizer), and stops the measure if not.',
    );
  },
};
