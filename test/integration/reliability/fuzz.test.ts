/**
 * Fuzzing with fast-check against the real local service: generated requests across every route
 * (random paths, NHS numbers, dates, bodies, headers, content types, huge and unicode values), bulk
 * upload rows (JSON and CSV), and audit events carrying council messages reaching the dispatch function.
 *
 * Runs per property: FUZZ_RUNS (10,000 in `npm run test:deep`), else a default that keeps `npm test`
 * fast. FUZZ_SEED replays a failing run (fast-check prints the seed and path).
 *
 * A proxy in front of DynamoDB Local sees every write: a rejected request must write nothing (a 403
 * on a valid NHS number may write exactly its ACCESS_DENIED audit event, a plan write refused for the
 * number's state exactly its PLAN_REFUSED event); a sample of rejected requests is also checked by
 * scanning the whole table before and after.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import fc from 'fast-check';
import { type CouncilMessage, CouncilMessageSchema } from '../../../functions/core/council-messages';
import { ErrorBodySchema } from '../../../functions/core/response-schemas';
import { isFhirPath } from '../../../functions/fhir/outcome';
import { RESPONSE_SCHEMAS } from '../../../functions/http/response-schemas';
import { routes } from '../../../functions/http/routes';
import { lambdaContext } from '../../../local/http-adapter';
import { forgedTokenFor } from '../../../testkit';
import { publishPlan, readResponse, registerCouncil, testNhsNumber, tokens } from '../harness';
import {
  count,
  FaultProxy,
  fuzzRuns,
  type ObservedWrite,
  type ReliabilityService,
  reliabilityRecorder,
  STACK_TRACE,
  startReliabilityService,
} from './support';

const record = reliabilityRecorder('fuzz');

const API_RUNS = fuzzRuns(1000);
/** Uploads carry about four rows each: a quarter as many uploads gives at least as many rows as runs. */
const UPLOAD_RUNS = Math.ceil(fuzzRuns(1000) / 4);
const DISPATCH_RUNS = fuzzRuns(1000);
/** One rejected request in this many is also checked by scanning the whole table before and after. */
const SCAN_EVERY = Math.max(40, Math.ceil(API_RUNS / 40));
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;

let proxy: FaultProxy;
let service: ReliabilityService;
const OWN = 'E09000001';
const OTHER = 'E08000025';
const UPLOADER = 'E07000099';

/** NHS numbers with plans, one flagged sensitive, one superseded; and fresh ones. */
const withPlans = [0, 1, 2, 3, 4, 5].map((i) => testNhsNumber(81_000 + i * 10));
const flagged = testNhsNumber(81_500);
const superseded = testNhsNumber(81_600);
const replacement = testNhsNumber(81_700);
const fresh = Array.from({ length: 30 }, (_, i) => testNhsNumber(82_000 + i * 10));
const knownNumbers = [...withPlans, flagged, superseded, replacement, ...fresh];
/** A few NHS numbers only well-formed plan writes and deletes use (nothing supersedes or flags them). */
const planPool = Array.from({ length: 6 }, (_, i) => testNhsNumber(83_000 + i * 10));

let validTokens: { name: string; token: string }[] = [];
let invalidTokens: { name: string; token: string }[] = [];

beforeAll(async () => {
  proxy = await FaultProxy.start(process.env.AWS_ENDPOINT_URL_DYNAMODB as string);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = proxy.url;
  service = await startReliabilityService();
  for (const code of [OWN, OTHER, UPLOADER]) await registerCouncil(service, code);
  for (const [i, nhsNumber] of withPlans.entries()) {
    await publishPlan(service, i % 2 ? OTHER : OWN, nhsNumber, 'CPP', { startDate: '2026-01-01' });
  }
  await publishPlan(service, OWN, superseded, 'LAC', { startDate: '2025-05-01' });
  const demographics = await tokens.demographics();
  await service.request('PUT', `/v1/nhs-numbers/${flagged}/sensitivity`, {
    token: demographics,
    body: { sensitive: true },
  });
  await service.request('POST', `/v1/nhs-numbers/${superseded}/superseded-by/${replacement}`, {
    token: demographics,
  });

  const claims = {
    sub: 'u1',
    name: 'Dr Ada Lovelace',
    org: 'RXX01',
    role: 'clinician',
    activities: ['B0107'],
  };
  const valid = await tokens.clinician(['B0107']);
  const [header, payload, signature] = valid.split('.') as [string, string, string];
  const forged = Buffer.from(
    JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), role: 'auditor' }),
  ).toString('base64url');
  validTokens = [
    { name: 'clinician B0107', token: await tokens.clinician(['B0107']) },
    { name: 'clinician B0170', token: await tokens.clinician(['B0170']) },
    { name: 'clinician both', token: await tokens.clinician(['B0107', 'B0170'], { sub: 'u2' }) },
    { name: 'clinician none', token: await tokens.clinician([], { sub: 'u3' }) },
    { name: 'council own', token: await tokens.council(OWN) },
    { name: 'council other', token: await tokens.council(OTHER) },
    { name: 'council uploader', token: await tokens.council(UPLOADER) },
    { name: 'auditor', token: await tokens.auditor() },
    { name: 'demographics', token: await tokens.demographics() },
  ];
  invalidTokens = [
    { name: 'garbage', token: 'not-a-jwt' },
    { name: 'forged', token: `${header}.${forged}.${signature}` },
    { name: 'alg none', token: `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.` },
    {
      name: 'expired',
      token: await forgedTokenFor(claims, { issuedAt: Math.floor(Date.now() / 1000) - 7200, ttlSeconds: 60 }),
    },
    { name: 'wrong issuer', token: await forgedTokenFor(claims, { issuer: 'https://evil.example' }) },
    { name: 'wrong audience', token: await forgedTokenFor(claims, { audience: 'elsewhere' }) },
    {
      name: 'no issuer claim match',
      token: await forgedTokenFor(claims, { issuer: `${process.env.LOCAL_IDENTITY_ORIGIN}/cis2x` }),
    },
  ];
}, 120_000);

afterAll(async () => {
  await service?.close();
  await proxy?.close();
});

// ---------------------------------------------------------------------------------------------------
// Arbitraries

/** null nine times in ten. */
const rarely = <T>(arbitrary: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 9, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });
const unicode = fc.string({ unit: 'grapheme', maxLength: 40 });
/** Long values: up to 9 KB in a body; in a URL, up to about 2 KB (API Gateway and Node refuse longer URLs). */
const huge = fc.integer({ min: 1000, max: 3000 }).map((n) => 'é🙂x'.repeat(n));
const long = fc.integer({ min: 50, max: 100 }).map((n) => 'é🙂x'.repeat(n));
const nasty = fc.constantFrom(
  '',
  ' ',
  '..',
  '.',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  '%',
  '%zz',
  '%E0%A4%A',
  '%2F',
  '%00',
  '\u0000',
  '\u202e',
  'Ω≈ç√',
  '9990000018 ',
  '９９９００００１８',
  '999-000-0018',
  '1e10',
  '-1',
  "' OR 1=1 --",
  '<script>',
  '$' + '{jndi:ldap://x}',
  '0x10',
);
const validNhs = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...knownNumbers) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 999_999 }).map((n) => testNhsNumber(n)) },
);
const invalidNhs = fc.oneof(
  fc.stringMatching(/^\d{10}$/).filter((s) => !isValidNhs(s)),
  fc.stringMatching(/^\d{0,12}$/),
  unicode,
  nasty,
);
const nhsArb = fc.oneof(
  { weight: 6, arbitrary: validNhs },
  { weight: 3, arbitrary: invalidNhs },
  { weight: 1, arbitrary: long },
);
const councilArb = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(OWN, OTHER, UPLOADER) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Z0-9]{3,10}$/) },
  { weight: 1, arbitrary: fc.oneof(unicode, nasty, fc.constant('e09000001')) },
);
const planTypeArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('CPP', 'LAC', 'UCPP') },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom('cpp', 'XYZ', 'CPP '), unicode, nasty) },
);
const isoDate = (from: number, to: number) =>
  fc.integer({ min: from, max: to }).map((day) => new Date(day * 86_400_000).toISOString().slice(0, 10));
const pastDate = isoDate(Date.UTC(2015, 0, 1) / 86_400_000, Math.floor(Date.now() / 86_400_000) - 1);
const dateArb = fc.oneof(
  { weight: 6, arbitrary: pastDate },
  {
    weight: 1,
    arbitrary: isoDate(Math.floor(Date.now() / 86_400_000) + 1, Date.UTC(2100, 0, 1) / 86_400_000),
  },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.constantFrom(
        '2026-02-30',
        '2025-02-29',
        '2024-02-29',
        '0000-00-00',
        '9999-12-31',
        '2026-1-1',
        '01/02/2026',
      ),
      fc.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      unicode,
    ),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.integer(),
      fc.constant(null),
      fc.boolean(),
      fc.constant({}),
    ) as fc.Arbitrary<unknown>,
  },
);
const phoneArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('020 7946 0999', '+44 (0)20 7946 0000', '999', '0800-000-000') },
  { weight: 1, arbitrary: fc.stringMatching(/^[0-9 +()-]{0,35}$/) },
  { weight: 1, arbitrary: unicode },
);

/** Extra fields a careless client might send: a child's name and date of birth among them. */
const extraFields = fc.dictionary(
  fc.oneof(
    fc.constantFrom('name', 'dateOfBirth', 'givenName', '__proto__', 'constructor', 'nhsNumber'),
    unicode,
  ),
  fc.oneof(unicode, fc.integer(), fc.constant('Amelia Testchild'), fc.constant('2014-02-03')),
  { maxKeys: 2 },
);

const uploadRecordArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record(
      {
        nhsNumber: fc.oneof({ weight: 8, arbitrary: validNhs }, { weight: 2, arbitrary: invalidNhs }),
        planType: planTypeArb,
        startDate: dateArb,
        endDate: fc.oneof(fc.constant(null), fc.constant(''), dateArb),
      },
      { requiredKeys: ['nhsNumber', 'planType', 'startDate'] },
    ),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.record({ nhsNumber: validNhs, planType: planTypeArb, startDate: pastDate }), extraFields)
      .map(([record, extra]) => ({ ...extra, ...record })),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(fc.jsonValue(), fc.constant(null), fc.constant([]), unicode) as fc.Arbitrary<unknown>,
  },
);

const bodyFor = (entry: string): fc.Arbitrary<unknown> => {
  switch (entry) {
    case 'register-council':
      return fc.record(
        {
          name: fc.oneof(
            { weight: 3, arbitrary: fc.constant('London Borough of Example') },
            { weight: 1, arbitrary: unicode },
            { weight: 1, arbitrary: huge },
          ),
          officeHoursPhone: fc.option(phoneArb),
          emergencyDutyPhone: phoneArb,
        },
        { requiredKeys: ['name', 'emergencyDutyPhone'] },
      );
    case 'put-plan':
      return fc.record({ startDate: dateArb, endDate: fc.option(dateArb) }, { requiredKeys: ['startDate'] });
    case 'sensitivity':
      return fc.record({ sensitive: fc.oneof(fc.boolean(), fc.constant('true'), fc.constant(1)) });
    case 'upload':
      return fc.record(
        {
          mode: fc.constantFrom('delta', 'snapshot', 'full'),
          records: fc.array(uploadRecordArb, { maxLength: 6 }),
        },
        { requiredKeys: ['records'] },
      );
    default:
      return fc.constant(undefined);
  }
};

/** A body the contract accepts for the route (the state may still refuse it). */
const validBodyFor = (entry: string): fc.Arbitrary<unknown> => {
  switch (entry) {
    case 'register-council':
      return fc.record({
        name: fc.constantFrom('London Borough of Example', 'Royal Borough of Ünïcode 🙂'),
        officeHoursPhone: fc.constantFrom('020 7946 0000', null),
        emergencyDutyPhone: fc.constantFrom('020 7946 0999', '+44 (0)20 7946 0999'),
      });
    case 'put-plan':
      return fc.tuple(pastDate, fc.option(fc.integer({ min: 0, max: 800 }))).map(([startDate, days]) => ({
        startDate,
        endDate:
          days === null
            ? null
            : new Date(Date.parse(startDate) + days * 86_400_000).toISOString().slice(0, 10),
      }));
    case 'sensitivity':
      return fc.record({ sensitive: fc.boolean() });
    case 'upload':
      return fc.record({
        mode: fc.constant('delta'),
        records: fc.array(
          fc.record({
            nhsNumber: validNhs,
            planType: fc.constantFrom('CPP', 'LAC', 'UCPP'),
            startDate: pastDate,
          }),
          {
            maxLength: 4,
          },
        ),
      });
    default:
      return fc.constant(undefined);
  }
};

interface FuzzRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body?: string;
}

const methodArb = fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD');
const contentTypeArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'text/csv',
      'text/plain',
      'application/xml',
      'multipart/form-data; boundary=x',
      'application/x-www-form-urlencoded',
      '',
    ),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[\x20-\x7e]{0,40}$/) },
);
const headerValue = fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,60}$/);
const extraHeadersArb = fc.dictionary(
  fc.constantFrom(
    'If-Match',
    'X-Forwarded-For',
    'Accept',
    'X-Request-Id',
    'Cookie',
    'X-Amz-Target',
    'Origin',
    // Names that are also properties of every JavaScript object.
    'constructor',
    '__proto__',
    'toString',
  ),
  fc.oneof(headerValue, fc.constantFrom('"1"', '*', 'W/"2"', '"1", "2"', '""')),
  { maxKeys: 3 },
);
const queryArb = fc.oneof(
  { weight: 5, arbitrary: fc.constant('') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '?mode=delta',
      '?mode=snapshot',
      '?mode=snapshot&force=true',
      '?mode=delta&dryRun=true',
      '?limit=5',
      '?limit=0',
      '?limit=201',
      '?limit=abc',
      '?cursor=bogus',
      '?limit=5&limit=6',
      '?mode=delta&mode=snapshot',
      '?status=open',
      '?status=all&limit=1000',
      '?status=visible&limit=1001',
      '?status=closed',
      `?cursor=${Buffer.from('9990000018#CPP').toString('base64url')}`,
    ),
  },
  {
    weight: 2,
    arbitrary: fc
      .dictionary(
        fc.oneof(
          fc.constantFrom(
            'mode',
            'limit',
            'cursor',
            'force',
            'dryRun',
            'status',
            'toString',
            '__proto__',
            'constructor',
          ),
          unicode,
        ),
        fc.oneof(unicode, long),
        { maxKeys: 3 },
      )
      .map((query) => (Object.keys(query).length ? `?${new URLSearchParams(query).toString()}` : '')),
  },
);

const tokenArb = () =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...validTokens).map((t) => ({ ...t, valid: true })) },
    { weight: 2, arbitrary: fc.constantFrom(...invalidTokens).map((t) => ({ ...t, valid: false })) },
    { weight: 1, arbitrary: fc.constant({ name: 'none', token: '', valid: false }) },
  );

const encodeSegment = (value: string, raw: boolean) =>
  raw ? value.replace(/[/?#\s]/g, encodeURIComponent) : encodeURIComponent(value);

/** The token a route's own caller would send, and the council code it may act for. */
function fittingCaller(entry: string, pick: number): { token: string; council?: string } {
  const named = (name: string) => (validTokens.find((t) => t.name === name) as { token: string }).token;
  switch (entry) {
    case 'lookup':
    case 'fhir-search':
    case 'fhir-metadata':
      return { token: named(['clinician B0107', 'clinician B0170', 'clinician both'][pick % 3] as string) };
    case 'audit-query':
      return { token: named('auditor') };
    case 'sensitivity':
      return { token: named('demographics') };
    case 'supersede':
      return { token: named('demographics') };
    case 'put-plan':
    case 'delete-plan':
      return pick % 4 === 0
        ? { token: named('council other'), council: OTHER }
        : { token: named('council own'), council: OWN };
    default: {
      const [name, council] = (
        [
          ['council own', OWN],
          ['council other', OTHER],
          ['council uploader', UPLOADER],
        ] as const
      )[pick % 3] as [string, string];
      return { token: named(name), council };
    }
  }
}

/** A request aimed at one of the routes, with values from valid to hostile. */
const routeRequestArb = () =>
  fc
    .record({
      route: fc.constantFrom(...routes),
      nhs: nhsArb,
      nhs2: nhsArb,
      council: councilArb,
      planType: planTypeArb,
      rawSegments: fc.boolean(),
      wrongMethod: rarely(methodArb),
      token: tokenArb(),
      fitting: fc.option(fc.nat(), { freq: 2 }),
      /** For a fitting caller: what, if anything, is hostile in the request. */
      hostility: fc.constantFrom('none', 'none', 'none', 'body', 'body', 'params', 'query'),
      validBody: fc.constant(false),
      authScheme: fc.constantFrom('Bearer ', 'Bearer ', 'Bearer ', 'bearer ', 'Basic ', 'Bearer  '),
      contentType: contentTypeArb,
      extraHeaders: extraHeadersArb,
      query: queryArb,
      bodyKind: fc.constantFrom('valid', 'valid', 'valid', 'extra', 'json', 'text', 'huge', 'none', 'csv'),
      /** The FHIR searches' IsUnscheduledAccessEvent header (absent, the contract's values, or not). */
      unscheduled: fc.constantFrom(undefined, 'true', 'false', 'false', 'TRUE', 'yes', ''),
    })
    .chain((generated) =>
      fc
        .tuple(
          validNhs,
          validNhs,
          fc.constantFrom('CPP', 'LAC', 'UCPP'),
          fc.constantFrom(...planPool),
          fc.constantFrom('CPP', 'LAC'),
        )
        .map(([anyNhs, nhs2, anyPlanType, pooled, pooledType]) => {
          if (generated.fitting === null) return generated;
          // Plan writes, deletes and reads aim at a few plans, so that updates, deletes and reads find one.
          const planRoute =
            generated.route.entry === 'put-plan' ||
            generated.route.entry === 'delete-plan' ||
            generated.route.operation === 'getCouncilPlan';
          // Half the time the caller is the one the route is for, so that the deep paths get exercised,
          // not only 401 and 403: mostly with a well-formed request (the state may still refuse it), else
          // with one hostile part (body, path parameters or query) behind a valid token.
          const caller = fittingCaller(generated.route.entry, generated.fitting);
          // A council reads the accesses of a child it holds a plan for (the uploader holds none: 403).
          const heldPlans = withPlans.filter((_, i) => (i % 2 ? OTHER : OWN) === caller.council);
          const nhs = planRoute
            ? pooled
            : generated.route.entry === 'council-accesses' && heldPlans.length > 0
              ? (heldPlans[generated.fitting % heldPlans.length] as string)
              : anyNhs;
          const planType = planRoute ? pooledType : anyPlanType;
          const hostile = generated.hostility;
          return {
            ...generated,
            validBody: hostile !== 'body',
            nhs: hostile === 'params' ? generated.nhs : nhs,
            nhs2: hostile === 'params' ? generated.nhs2 : nhs2,
            planType: hostile === 'params' ? generated.planType : planType,
            rawSegments: hostile === 'params' ? generated.rawSegments : false,
            wrongMethod: null,
            token: { name: 'fitting', token: caller.token, valid: true },
            council: caller.council ?? generated.council,
            authScheme: 'Bearer ',
            extraHeaders: hostile === 'none' ? {} : generated.extraHeaders,
            contentType: hostile === 'body' ? generated.contentType : 'application/json',
            bodyKind: hostile === 'body' ? generated.bodyKind : 'valid',
            // A FHIR search carries its NHS number in its query (hostile with 'params' as with 'query').
            query:
              hostile === 'query'
                ? generated.query
                : generated.route.entry === 'upload'
                  ? '?mode=delta'
                  : generated.route.entry === 'fhir-search'
                    ? fhirQuery(hostile === 'params' ? generated.nhs : nhs)
                    : '',
            unscheduled:
              hostile === 'none'
                ? ([undefined, 'true', 'false'][generated.fitting % 3] as string | undefined)
                : generated.unscheduled,
          };
        }),
    )
    .chain((r) =>
      fc
        .tuple(
          r.validBody ? validBodyFor(r.route.entry) : bodyFor(r.route.entry),
          extraFields,
          fc.jsonValue(),
          fc.string({ unit: 'binary', maxLength: 200 }),
        )
        .map(([valid, extra, json, text]): FuzzRequest => {
          const path = r.route.path
            .replace('{councilCode}', encodeSegment(r.council, r.rawSegments))
            .replace('{nhsNumber}', encodeSegment(r.nhs, r.rawSegments))
            .replace('{oldNhsNumber}', encodeSegment(r.nhs, r.rawSegments))
            .replace('{newNhsNumber}', encodeSegment(r.nhs2, r.rawSegments))
            .replace('{planType}', encodeSegment(r.planType, r.rawSegments));
          let body: string | undefined;
          switch (r.bodyKind) {
            case 'valid':
              body = valid === undefined ? undefined : JSON.stringify(valid);
              break;
            case 'extra':
              body = JSON.stringify(typeof valid === 'object' && valid ? { ...valid, ...extra } : extra);
              break;
            case 'json':
              body = JSON.stringify(json);
              break;
            case 'text':
              body = text;
              break;
            case 'huge':
              body = JSON.stringify({ ...(valid as object), padding: 'x'.repeat(20_000) });
              break;
            case 'csv':
              body = `nhsNumber,planType,startDate,endDate\n${r.nhs},${r.planType},2026-01-01,\n`;
              break;
          }
          const headers: Record<string, string> = { ...r.extraHeaders };
          if (r.route.fhir && r.unscheduled !== undefined) headers.IsUnscheduledAccessEvent = r.unscheduled;
          if (r.token.token !== '') headers.Authorization = `${r.authScheme}${r.token.token}`;
          if (body !== undefined && r.contentType !== '') headers['Content-Type'] = r.contentType;
          return { method: r.wrongMethod ?? r.route.method, path, query: r.query, headers, body };
        }),
    );

/** Anything at all: random paths and methods. */
const randomRequestArb = () =>
  fc
    .record({
      method: methodArb,
      segments: fc.array(
        fc.oneof(
          fc.constantFrom('v1', 'councils', 'children', 'audit', 'plans', 'uploads', 'nhs-numbers'),
          fc.constantFrom('FHIR', 'R4', 'CareTeam', 'AuditEvent', 'metadata', 'Patient'),
          nhsArb,
          unicode,
          nasty,
        ),
        {
          maxLength: 7,
        },
      ),
      raw: fc.boolean(),
      query: queryArb,
      token: tokenArb(),
      body: fc.option(
        fc.oneof(
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.string({ unit: 'binary', maxLength: 100 }),
        ),
      ),
      contentType: contentTypeArb,
    })
    .map(
      (r): FuzzRequest => ({
        method: r.method,
        path: `/${r.segments.map((s) => encodeSegment(s, r.raw)).join('/')}`,
        query: r.query,
        headers: {
          ...(r.token.token ? { Authorization: `Bearer ${r.token.token}` } : {}),
          ...(r.body !== null && r.contentType ? { 'Content-Type': r.contentType } : {}),
        },
        body: r.body ?? undefined,
      }),
    );

// ---------------------------------------------------------------------------------------------------
// Oracles, written from the contract rather than from the code

function isValidNhs(value: string): boolean {
  if (!/^\d{10}$/.test(value)) return false;
  const sum = [...value.slice(0, 9)].reduce((total, digit, i) => total + Number(digit) * (10 - i), 0);
  const check = (11 - (sum % 11)) % 11;
  return check !== 10 && check === Number(value[9]);
}

const CODES_BY_STATUS: Record<number, string[]> = {
  400: ['INVALID_NHS_NUMBER', 'VALIDATION_FAILED'],
  401: ['UNAUTHENTICATED'],
  403: ['FORBIDDEN'],
  404: ['NOT_FOUND'],
  405: ['METHOD_NOT_ALLOWED'],
  409: ['CONFLICT', 'SENSITIVE_RECORD', 'SNAPSHOT_GUARD'],
  413: ['PAYLOAD_TOO_LARGE'],
  415: ['UNSUPPORTED_MEDIA_TYPE'],
  429: ['THROTTLED'],
};

/** The contract's FHIR errors: status → issue code and Spine code (FHIR R4 section of the contract). */
const FHIR_ERRORS_BY_STATUS: Record<number, [string, string][]> = {
  400: [
    ['invalid', 'INVALID_SEARCH_DATA'],
    ['invalid', 'PRECONDITION_FAILED'],
  ],
  401: [['login', 'ACCESS_DENIED']],
  403: [['forbidden', 'ACCESS_DENIED']],
  404: [['not-found', 'INVALID_RESOURCE_ID']],
  429: [['throttled', 'TOO_MANY_REQUESTS']],
};
const SPINE_ERROR_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/England-SpineErrorOrWarningCode';

const fhirQuery = (nhsNumber: string) =>
  `?patient:identifier=${encodeURIComponent(`https://fhir.nhs.uk/Id/nhs-number|${nhsNumber}`)}`;

/** An OperationOutcome whose first issue has a status's issue code and Spine code, or why it is not. */
function fhirErrorProblem(status: number, body: any): string | undefined {
  const issue = body?.issue?.[0];
  const coding = issue?.details?.coding?.[0];
  if (body?.resourceType !== 'OperationOutcome') return `not an OperationOutcome: ${JSON.stringify(body)}`;
  if (coding?.system !== SPINE_ERROR_SYSTEM) return `coding system ${coding?.system}`;
  const allowed = FHIR_ERRORS_BY_STATUS[status] ?? [];
  return allowed.some(([code, spine]) => issue.code === code && coding.code === spine)
    ? undefined
    : `${status} answered ${issue?.code} ${coding?.code}`;
}

/** What the route table says about a method and path, before any token is looked at. */
function gate(
  method: string,
  rawPath: string,
):
  | { kind: 'not-found' }
  | { kind: 'fhir-not-found' }
  | { kind: 'method'; allowed: string[] }
  | { kind: 'route'; entry: string; route: (typeof routes)[number] } {
  const pathname = new URL(`http://localhost${rawPath}`).pathname;
  let segments: string[];
  try {
    segments = pathname
      .split('/')
      .map((segment) => decodeURIComponent(segment))
      .join('/')
      .split('/');
  } catch {
    return { kind: 'not-found' };
  }
  const matching = routes.filter((route) => {
    const template = route.path.split('/');
    return (
      template.length === segments.length &&
      template.every((part, i) => (part.startsWith('{') ? segments[i] !== '' : part === segments[i]))
    );
  });
  // Under the FHIR base, any other path or method is 404 INVALID_RESOURCE_ID, after the token check.
  if (isFhirPath(segments.join('/'))) {
    const route = matching.find((candidate) => candidate.method === method);
    return route ? { kind: 'route', entry: route.entry, route } : { kind: 'fhir-not-found' };
  }
  if (matching.length === 0) return { kind: 'not-found' };
  const route = matching.find((candidate) => candidate.method === method);
  return route
    ? { kind: 'route', entry: route.entry, route }
    : { kind: 'method', allowed: matching.map((r) => r.method) };
}

/** Stack frames, file paths or error class names in a response, unless the request itself sent them. */
function leaks(text: string, request: FuzzRequest): string | undefined {
  const sent = decodeSafely(
    `${request.path}${request.query}${request.body ?? ''}${Object.values(request.headers).join('')}`,
  );
  const pattern = new RegExp(
    `${STACK_TRACE.source}|\\b(TypeError|SyntaxError|RangeError|ReferenceError|ZodError)\\b`,
    'g',
  );
  for (const match of text.matchAll(pattern)) {
    if (!sent.includes(match[0]) && !JSON.stringify(sent).includes(match[0])) return match[0];
  }
  return undefined;
}

function decodeSafely(value: string): string {
  try {
    return `${value}${decodeURIComponent(value)}`;
  } catch {
    return value;
  }
}

/** Keys and kind of what a write put in the table (Put items and transaction Puts). */
function writtenItems(writes: ObservedWrite[]): Record<string, unknown>[] {
  const items: Record<string, unknown>[] = [];
  for (const write of writes) {
    if (write.operation === 'PutItem') items.push(unmarshall(write.body.Item));
    if (write.operation === 'TransactWriteItems') {
      for (const item of write.body.TransactItems ?? []) {
        if (item.Put) items.push(unmarshall(item.Put.Item));
        if (item.Delete) items.push({ ...unmarshall(item.Delete.Key), deleted: true });
        if (item.Update) items.push({ ...unmarshall(item.Update.Key), updated: true });
      }
    }
    if (write.operation === 'UpdateItem' && String(write.body?.Key?.PK?.S).startsWith('REFUSALS#')) {
      // A refusal recorded on the caller's coalesced refusals for the number (ACCESS_DENIED, counted).
      const values = unmarshall(write.body.ExpressionAttributeValues ?? {});
      items.push({
        ...unmarshall(write.body.Key),
        kind: values[':kind'],
        action: values[':action'],
        updated: true,
      });
    } else if (
      write.operation === 'DeleteItem' ||
      write.operation === 'UpdateItem' ||
      write.operation === 'BatchWriteItem'
    ) {
      items.push({ operation: write.operation });
    }
  }
  return items;
}

async function send(request: FuzzRequest) {
  const hasBody = request.body !== undefined && request.method !== 'GET' && request.method !== 'HEAD';
  return readResponse(
    await fetch(`${service.url}${request.path}${request.query}`, {
      method: request.method,
      headers: request.headers,
      body: hasBody ? Buffer.from(request.body as string, 'utf8') : undefined,
    }),
  );
}

const byKey = (items: Record<string, unknown>[]) =>
  new Map(items.map((item) => [`${item.PK}|${item.SK}`, JSON.stringify(item)]));

// ---------------------------------------------------------------------------------------------------

describe('fuzzing the API', () => {
  it(
    `every route: ${API_RUNS} generated requests, never a 5xx or a stack trace; every rejected request writes nothing`,
    async () => {
      const outcomes: Record<string, number> = {};
      const perRoute: Record<string, Record<string, number>> = {};
      let scans = 0;
      let rejectedSeen = 0;

      await fc.assert(
        fc.asyncProperty(
          fc.oneof({ weight: 4, arbitrary: routeRequestArb() }, { weight: 1, arbitrary: randomRequestArb() }),
          async (request) => {
            const scanHere = rejectedSeen % SCAN_EVERY === 0;
            const before = scanHere ? await service.scanTable() : undefined;
            proxy.takeWrites();
            const response = await send(request);
            const writes = proxy.takeWrites();
            const expected = gate(request.method, `${request.path}${request.query}`);
            const entry = expected.kind === 'route' ? expected.entry : expected.kind;
            perRoute[entry] ??= {};
            count(perRoute[entry] as Record<string, number>, String(response.status));
            count(outcomes, `${Math.floor(response.status / 100)}xx`);

            expect(response.status).toBeLessThan(500);
            expect(leaks(response.text, request)).toBeUndefined();
            expect(response.headers.get('cache-control')).toBe('no-store');
            expect(response.headers.get('x-request-id')).toBeTruthy();
            const fhir =
              expected.kind === 'fhir-not-found' || (expected.kind === 'route' && !!expected.route.fhir);
            if (expected.kind === 'not-found') expect(response.status).toBe(404);
            if (expected.kind === 'method') {
              expect(response.status).toBe(405);
              expect(response.headers.get('allow')?.split(', ').sort()).toEqual([...expected.allowed].sort());
            }
            const authorization = request.headers.Authorization ?? '';
            const validToken = validTokens.some(
              (t) => /^Bearer /i.test(authorization) && authorization.slice(7) === t.token,
            );
            // The FHIR CapabilityStatement needs no token and never refuses.
            if (expected.kind === 'route' && expected.route.public) expect(response.status).toBe(200);
            else if (expected.kind === 'route' && !validToken) expect(response.status).toBe(401);
            if (expected.kind === 'fhir-not-found') expect(response.status).toBe(validToken ? 404 : 401);
            if (fhir && request.method !== 'HEAD')
              expect(response.headers.get('content-type')).toMatch(/^application\/fhir\+json/);

            if (response.status >= 400) {
              rejectedSeen++;
              if (request.method !== 'HEAD' && fhir) {
                // FHIR errors are OperationOutcomes with the contract's issue and Spine codes.
                expect(fhirErrorProblem(response.status, response.body)).toBeUndefined();
              } else if (request.method !== 'HEAD') {
                expect(ErrorBodySchema.safeParse(response.body).success).toBe(true);
                expect(CODES_BY_STATUS[response.status]).toContain(response.body.error.code);
              }
              // Nothing written, except the audit event of a refusal on a valid NHS number, or of a plan
              // write refused for the number's state (superseded: CONFLICT naming it; sensitive).
              const items = writtenItems(writes);
              const refusedForState =
                request.method === 'PUT' &&
                response.status === 409 &&
                (response.body?.error?.code === 'SENSITIVE_RECORD' ||
                  /superseded by/.test(response.body?.error?.message ?? ''));
              if (response.status === 403) {
                expect(items.length).toBeLessThanOrEqual(1);
                for (const item of items)
                  expect(item).toMatchObject({ kind: 'AUDIT', action: 'ACCESS_DENIED' });
              } else if (refusedForState) {
                expect(items).toEqual([expect.objectContaining({ kind: 'AUDIT', action: 'PLAN_REFUSED' })]);
              } else {
                expect(items).toEqual([]);
              }
              if (before) {
                scans++;
                const after = byKey(await service.scanTable());
                const added = [...after.keys()].filter(
                  (key) => !before.some((item) => `${item.PK}|${item.SK}` === key),
                );
                const allowedAdded = response.status === 403 || refusedForState ? 1 : 0;
                expect(added.length).toBeLessThanOrEqual(allowedAdded);
                // A 403 may count one more refusal on an existing coalesced item; nothing else changes.
                for (const item of before) {
                  if (response.status === 403 && String(item.PK).startsWith('REFUSALS#')) continue;
                  expect(after.get(`${item.PK}|${item.SK}`)).toBe(JSON.stringify(item));
                }
              }
            } else if (expected.kind === 'route' && response.status !== 204 && request.method !== 'HEAD') {
              // An accepted request answers with its documented body (the route's own: an entry may
              // serve several routes).
              const name = expected.route.responses.find((r) => r.status === response.status)?.schema;
              expect(name).toBeDefined();
              expect(name && RESPONSE_SCHEMAS[name].safeParse(response.body).success).toBe(true);
            }
          },
        ),
        { numRuns: API_RUNS, seed: SEED },
      );

      // Every route was reached, and every route accepted some requests and refused others (a delete
      // that passed every check but found no plan, 404, also went all the way to the table).
      for (const route of routes) {
        const statuses = Object.keys(perRoute[route.entry] ?? {}).map(Number);
        const deep = (s: number) => s < 300 || (route.entry === 'delete-plan' && s === 404);
        expect({ route: route.entry, accepted: statuses.some(deep) }).toEqual({
          route: route.entry,
          accepted: true,
        });
        // Every route refused some requests, but the public CapabilityStatement, which refuses none.
        expect({ route: route.entry, refused: statuses.some((s) => s >= 400) }).toEqual({
          route: route.entry,
          refused: !route.public,
        });
      }
      // Paths under the FHIR base that are no route were reached, and answered in FHIR (above).
      expect(Object.keys(perRoute['fhir-not-found'] ?? {}).length).toBeGreaterThan(0);
      record('api', {
        guarantee: 'Fuzzing',
        test: 'generated requests across every route: never a 5xx, never a stack trace, rejected requests write nothing',
        inputs: API_RUNS,
        faultsInjected: 0,
        outcomes: {
          ...outcomes,
          'rejected requests checked by a full table scan': scans,
          ...Object.fromEntries(
            Object.entries(perRoute).map(([entry, statuses]) => [
              `${entry}: ${Object.entries(statuses)
                .sort()
                .map(([status, n]) => `${status}×${n}`)
                .join(' ')}`,
              Object.values(statuses).reduce((sum, n) => sum + n, 0),
            ]),
          ),
        },
      });
    },
    60_000 + API_RUNS * 60,
  );
});

describe('fuzzing bulk uploads', () => {
  /** Rows as a CSV file, with the quirks real exports have. */
  const csvArb = fc
    .record({
      rows: fc.array(
        fc.tuple(
          fc.oneof(validNhs, invalidNhs),
          planTypeArb,
          fc.oneof(pastDate, dateArb.map(String)),
          fc.oneof(fc.constant(''), pastDate, dateArb.map(String)),
          rarely(unicode),
        ),
        { maxLength: 8 },
      ),
      header: fc.constantFrom(
        'nhsNumber,planType,startDate,endDate',
        'nhsNumber,planType,startDate,endDate',
        'nhsNumber,planType,startDate,endDate',
        'nhsNumber,planType,startDate,endDate',
        'nhsNumber,planType,startDate',
        'NHS,TYPE,START,END',
        '',
      ),
      bom: fc.boolean(),
      crlf: fc.boolean(),
      quote: fc.boolean(),
      garbage: rarely(fc.string({ unit: 'binary', maxLength: 60 })),
    })
    .map((csv) => {
      const cell = (value: string) =>
        csv.quote || /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
      const lines = [
        csv.header,
        ...csv.rows.map((row) =>
          row
            .filter((v) => v !== null)
            .map((v) => cell(String(v)))
            .join(','),
        ),
      ];
      const text = `${csv.bom ? '\ufeff' : ''}${lines.join(csv.crlf ? '\r\n' : '\n')}\n${csv.garbage ?? ''}`;
      return { contentType: 'text/csv', text, rows: csv.rows.length };
    });
  const jsonArb = fc
    .record({
      mode: fc.option(fc.constantFrom('delta', 'delta', 'snapshot', 'x'), { freq: 2 }),
      records: fc.array(uploadRecordArb, { maxLength: 10 }),
    })
    .map((upload) => ({
      contentType: 'application/json',
      text: JSON.stringify(upload.mode === null ? { records: upload.records } : upload),
      rows: upload.records.length,
      records: upload.records,
    }));
  const uploadArb = fc.record({
    file: fc.oneof(jsonArb, csvArb),
    query: fc.constantFrom(
      '?mode=delta',
      '?mode=delta',
      '?mode=delta',
      '?mode=snapshot',
      '?mode=snapshot&force=true',
      '?mode=delta&dryRun=true',
      '',
    ),
  });

  it(
    `${UPLOAD_RUNS} generated uploads (JSON and CSV): results match the rows, only accepted rows are written, each with its audit event`,
    async () => {
      const token = await tokens.council(UPLOADER);
      const outcomes: Record<string, number> = {};
      let rows = 0;
      let answered = 0;
      await fc.assert(
        fc.asyncProperty(uploadArb, async ({ file, query }) => {
          proxy.takeWrites();
          const response = await service.request('POST', `/v1/councils/${UPLOADER}/uploads${query}`, {
            token,
            rawBody: file.text,
            contentType: file.contentType,
          });
          const writes = proxy.takeWrites();
          const items = writtenItems(writes);
          rows += file.rows;
          count(outcomes, `upload answered ${response.status}`);
          expect(response.status).toBeLessThan(500);
          expect(response.text).not.toMatch(STACK_TRACE);
          if (response.status >= 400) {
            expect(ErrorBodySchema.safeParse(response.body).success).toBe(true);
            expect(items).toEqual([]);
            return;
          }
          const body = response.body;
          const results = body.results as {
            row: number | null;
            nhsNumber: string;
            planType: string;
            outcome: string;
            code?: string;
          }[];
          const fileRows = results.filter((r) => r.row !== null);
          answered++;
          count(outcomes, 'rows with a result (upload accepted)', fileRows.length);
          // One result per record sent (a CSV file's trailing garbage may add rows of its own).
          if (file.contentType === 'application/json') expect(fileRows).toHaveLength(file.rows);
          expect(fileRows.map((r) => r.row)).toEqual(
            Array.from({ length: fileRows.length }, (_, i) => i + 1),
          );
          expect(results.slice(fileRows.length).every((r) => r.row === null && r.outcome === 'ENDED')).toBe(
            true,
          );
          expect(body.accepted + body.rejected).toBe(fileRows.length);
          expect(body.rejected).toBe(fileRows.filter((r) => r.outcome === 'REJECTED').length);
          expect(body.ended).toBe(results.length - fileRows.length);
          expect(body.status).toBe(
            body.rejected === 0 ? 'ALL_ACCEPTED' : body.accepted === 0 ? 'NONE_ACCEPTED' : 'PARTIAL',
          );
          for (const result of fileRows) {
            count(outcomes, `row ${result.outcome}${result.code ? ` ${result.code}` : ''}`);
            if (result.outcome === 'REJECTED') expect(result.code).toBeDefined();
          }
          // Independent of the code: a row naming an invalid NHS number or plan type is never accepted.
          if (file.contentType === 'application/json') {
            (file as { records: unknown[] }).records.forEach((record, index) => {
              const r = record as Record<string, unknown> | null;
              const bad =
                typeof r !== 'object' ||
                r === null ||
                Array.isArray(r) ||
                typeof r.nhsNumber !== 'string' ||
                !isValidNhs(r.nhsNumber) ||
                !['CPP', 'LAC', 'UCPP'].includes(r.planType as string) ||
                Object.keys(r).some(
                  (key) => !['nhsNumber', 'planType', 'startDate', 'endDate'].includes(key),
                );
              if (bad) expect(fileRows[index]?.outcome).toBe('REJECTED');
            });
          }
          // Exactly the created, updated and ended plans are written, each with its audit event.
          const planWrites = items.filter((item) => item.kind === 'PLAN');
          const changed = results.filter((r) => ['CREATED', 'UPDATED', 'ENDED'].includes(r.outcome));
          const dryRun = query.includes('dryRun=true');
          expect(planWrites.map((p) => `${p.nhsNumber}#${p.planType}`).sort()).toEqual(
            dryRun ? [] : changed.map((r) => `${r.nhsNumber}#${r.planType}`).sort(),
          );
          // Besides, each row refused for its number's state leaves PLAN_REFUSED, and a dry run's rows
          // that name a valid number UPLOAD_CHECKED, under that number.
          const audits = items.filter((item) => item.kind === 'AUDIT');
          const changeAudits = audits.filter(
            (a) => !['PLAN_REFUSED', 'UPLOAD_CHECKED'].includes(String(a.action)),
          );
          expect(changeAudits.map((a) => `${a.PK}#${a.planType}`).sort()).toEqual(
            planWrites.map((p) => `AUDIT#${p.nhsNumber}#${p.planType}`).sort(),
          );
          const rowAudits = audits.filter(
            (a) => a.action === 'PLAN_REFUSED' || a.action === 'UPLOAD_CHECKED',
          );
          const expectedRowAudits = fileRows.filter((r) =>
            dryRun
              ? typeof r.nhsNumber === 'string' && isValidNhs(r.nhsNumber)
              : r.code === 'SENSITIVE_RECORD' || r.code === 'NHS_NUMBER_SUPERSEDED',
          );
          expect(rowAudits.map((a) => `${a.PK}|${a.action}`).sort()).toEqual(
            expectedRowAudits
              .map((r) => `AUDIT#${r.nhsNumber}|${dryRun ? 'UPLOAD_CHECKED' : 'PLAN_REFUSED'}`)
              .sort(),
          );
          // A child's name or date of birth sent in a row is never stored.
          expect(JSON.stringify(items)).not.toMatch(/Amelia Testchild|2014-02-03/);
        }),
        { numRuns: UPLOAD_RUNS, seed: SEED },
      );
      // The checks above ran on answered uploads: about half of those generated are (the rest are
      // refused whole, as they should be); a generator or service refusing them all would check nothing.
      expect(answered).toBeGreaterThan(UPLOAD_RUNS / 4);
      record('upload', {
        guarantee: 'Fuzzing',
        test: 'generated bulk uploads (JSON and CSV rows): results match rows, only accepted rows written with their audit events',
        inputs: rows,
        faultsInjected: 0,
        outcomes: { uploads: UPLOAD_RUNS, ...outcomes },
      });
    },
    60_000 + UPLOAD_RUNS * 150,
  );
});

describe('fuzzing the dispatch function', () => {
  const ulid = fc.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  const accessed = fc.record({
    type: fc.constant('ChildRecordAccessed' as const),
    eventId: ulid,
    occurredAt: fc
      .date({ noInvalidDate: true, min: new Date(2020, 0, 1), max: new Date(2030, 0, 1) })
      .map((d) => d.toISOString()),
    councilCode: fc.constantFrom(OWN, OTHER),
    nhsNumber: validNhs,
    planTypes: fc.uniqueArray(fc.constantFrom('CPP', 'LAC', 'UCPP'), { minLength: 1, maxLength: 3 }),
    accessedBy: fc.record({
      userId: fc.oneof(fc.constant('u1'), unicode),
      userName: fc.oneof(fc.constant('Dr Ada Lovelace'), unicode),
      organisation: fc.constantFrom('RXX01', 'RYY02'),
      setting: fc.option(fc.oneof(fc.constant('emergency-department'), unicode)),
    }),
  });
  const superseding = fc.record({
    type: fc.constant('NhsNumberSuperseded' as const),
    eventId: ulid,
    occurredAt: fc.constant('2026-11-20T02:14:09.120Z'),
    councilCode: fc.constantFrom(OWN, OTHER),
    oldNhsNumber: validNhs,
    newNhsNumber: validNhs,
  });
  const validMessage = fc.oneof(accessed, superseding) as fc.Arbitrary<CouncilMessage>;
  /** A contract message broken in one way the contract forbids. */
  const brokenMessage = fc
    .tuple(
      validMessage,
      fc.constantFrom(
        'drop-eventId',
        'drop-councilCode',
        'unknown-type',
        'bad-nhs',
        'bad-council',
        'extra-field',
        'empty-planTypes',
        'bad-planType',
        'number-eventId',
        'null-accessedBy',
      ),
    )
    .map(([message, breakage]) => {
      const m: Record<string, unknown> = structuredClone(message);
      switch (breakage) {
        case 'drop-eventId':
          delete m.eventId;
          break;
        case 'drop-councilCode':
          delete m.councilCode;
          break;
        case 'unknown-type':
          m.type = 'ChildRecordDeleted';
          break;
        case 'bad-nhs':
          if (m.type === 'ChildRecordAccessed') m.nhsNumber = '99900000';
          else m.oldNhsNumber = 'x';
          break;
        case 'bad-council':
          m.councilCode = 'e09000001';
          break;
        case 'extra-field':
          m.childName = 'Amelia Testchild';
          break;
        case 'empty-planTypes':
          if (m.type === 'ChildRecordAccessed') m.planTypes = [];
          else delete m.newNhsNumber;
          break;
        case 'bad-planType':
          if (m.type === 'ChildRecordAccessed') m.planTypes = ['XYZ'];
          else m.newNhsNumber = 12;
          break;
        case 'number-eventId':
          m.eventId = 42;
          break;
        case 'null-accessedBy':
          if (m.type === 'ChildRecordAccessed') m.accessedBy = null;
          else m.type = null;
          break;
      }
      return m;
    });
  type Generated = { record: DynamoDBRecord; deliver?: CouncilMessage; malformedMessages: boolean };
  const recordArb: fc.Arbitrary<Generated> = fc
    .record({
      kind: fc.constantFrom(
        'valid',
        'valid',
        'broken',
        'broken',
        'anything',
        'not-audit',
        'not-insert',
        'no-image',
      ),
      valid: validMessage,
      broken: brokenMessage,
      anything: fc.anything({ maxDepth: 3, withNullPrototype: false, withBoxedValues: false }),
      eventName: fc.constantFrom('MODIFY', 'REMOVE', 'insert', ''),
      pk: fc.oneof(fc.constantFrom('CHILD#9990000018', 'COUNCIL#x', 'AUDIT', 'audit#x'), unicode),
      sequence: fc.bigInt({ min: 1n, max: 10n ** 20n }),
    })
    .map((g) => {
      const message = g.kind === 'valid' ? g.valid : g.kind === 'broken' ? g.broken : g.anything;
      const eventId = (message as { eventId?: unknown })?.eventId;
      // An audit event carrying the message, as a notifying lookup writes it (or a foreign item).
      const item = {
        PK: g.kind === 'not-audit' ? g.pk : 'AUDIT#9990000018',
        SK: `ACCESS#2026-11-20T02:14:09.120Z#${typeof eventId === 'string' ? eventId : 'x'}`,
        kind: 'AUDIT',
        notifies: true,
        messages: [message],
      };
      let image: Record<string, AttributeValue> | undefined;
      try {
        image = marshall(item, {
          removeUndefinedValues: true,
          convertClassInstanceToMap: true,
          convertEmptyValues: false,
        });
      } catch {
        image = marshall({ PK: item.PK, SK: item.SK, notifies: true, messages: [safeString(message)] });
      }
      const streamRecord: DynamoDBRecord = {
        eventID: String(g.sequence),
        eventName: (g.kind === 'not-insert' ? g.eventName : 'INSERT') as DynamoDBRecord['eventName'],
        eventSource: 'aws:dynamodb',
        dynamodb:
          g.kind === 'no-image'
            ? { Keys: { PK: { S: item.PK } } as never, SequenceNumber: String(g.sequence) }
            : {
                Keys: { PK: image.PK, SK: { S: item.SK } } as never,
                NewImage: image as never,
                SequenceNumber: String(g.sequence),
                StreamViewType: 'NEW_IMAGE',
              },
      };
      return {
        record: streamRecord,
        deliver: g.kind === 'valid' ? g.valid : undefined,
        malformedMessages: g.kind === 'broken' || g.kind === 'anything',
      };
    });

  it(
    `${DISPATCH_RUNS} generated batches of audit events carrying messages: never a crash, malformed ones dropped, only contract messages reach a council`,
    async () => {
      const dispatch = await import('../../../functions/dispatch');
      // Notifications of the API fuzz's lookups first: the poller must be idle while this test invokes
      // dispatch itself (its batch processor is one per module, as in a Lambda container).
      await service.drained();
      await service.receiveAll(service.councilQueue(OWN));
      await service.receiveAll(service.councilQueue(OTHER));
      const outcomes: Record<string, number> = {};
      let records = 0;
      // Every contract message handed to dispatch, by council and eventId: the queues are read once at the
      // end (reading them after every batch would take most of the time).
      const expected = new Map<string, unknown>();
      const key = (m: { eventId: string; councilCode: string }) => `${m.councilCode}#${m.eventId}`;
      // The logger writes JSON lines (errors to stderr): count the malformed-item errors, do not print them.
      let malformedExpected = 0;
      let malformedLogged = 0;
      const streams = [process.stdout, process.stderr] as const;
      const writes = streams.map((stream) => stream.write);
      streams.forEach((stream, i) => {
        stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
          if (String(chunk).includes(dispatch.MALFORMED_MESSAGE)) {
            malformedLogged++;
            return true;
          }
          return (writes[i] as typeof stream.write).call(stream, chunk, ...rest);
        }) as typeof stream.write;
      });
      try {
        await fc.assert(
          fc.asyncProperty(
            fc.uniqueArray(recordArb, {
              minLength: 1,
              maxLength: 6,
              selector: (g) => g.record.dynamodb?.SequenceNumber,
            }),
            async (batch) => {
              records += batch.length;
              const contract = batch.flatMap((g) =>
                g.deliver ? [JSON.parse(JSON.stringify(g.deliver))] : [],
              );
              for (const message of contract) expected.set(key(message), message);
              count(outcomes, 'contract messages', contract.length);
              count(outcomes, 'malformed or foreign records', batch.length - contract.length);
              malformedExpected += batch.filter((g) => g.malformedMessages).length;
              let result: DynamoDBBatchResponse | undefined;
              try {
                result = (await dispatch.handler(
                  { Records: batch.map((g) => g.record) },
                  lambdaContext('dispatch', 'fuzz'),
                )) as DynamoDBBatchResponse;
              } catch (error) {
                const causes = ((error as { recordErrors?: Error[] }).recordErrors ?? []).map(
                  (e) => `${e.name}: ${e.message}`,
                );
                throw new Error(
                  `dispatch threw: ${(error as Error).name}: ${(error as Error).message} ${causes.join('; ')}`,
                );
              }
              // Nothing to retry: contract messages were sent, the rest dropped (and logged).
              expect(result.batchItemFailures).toEqual([]);
            },
          ),
          { numRuns: DISPATCH_RUNS, seed: SEED },
        );
      } finally {
        streams.forEach((stream, i) => {
          stream.write = writes[i] as typeof stream.write;
        });
      }
      // Every audit event with malformed messages was logged (and nothing about it retried or sent).
      expect(malformedLogged).toBe(malformedExpected);
      const delivered = [
        ...(await service.receiveAll(service.councilQueue(OWN))),
        ...(await service.receiveAll(service.councilQueue(OTHER))),
      ];
      // Only contract messages reached a council, each exactly as generated, and every one of them did.
      for (const message of delivered) {
        expect(CouncilMessageSchema.safeParse(message).success).toBe(true);
        expect(message).toEqual(expected.get(key(message)));
      }
      expect(delivered.map(key).sort()).toEqual([...expected.keys()].sort());
      count(outcomes, 'delivered', delivered.length);
      count(outcomes, 'audit events with malformed messages logged and dropped', malformedLogged);
      record('dispatch', {
        guarantee: 'Fuzzing',
        test: 'generated audit events carrying messages reaching the dispatch function: never a crash, malformed dropped, only contract messages delivered',
        inputs: records,
        faultsInjected: 0,
        outcomes: { batches: DISPATCH_RUNS, ...outcomes },
      });
    },
    60_000 + DISPATCH_RUNS * 60,
  );

  it('a notification naming a person or place in any script (emoji, CJK extension B) reaches its council', async () => {
    const dispatch = await import('../../../functions/dispatch');
    await service.drained();
    const message = {
      type: 'ChildRecordAccessed',
      eventId: '01JDUNICODE0000000000000000',
      occurredAt: '2026-11-20T02:14:09.120Z',
      councilCode: OWN,
      nhsNumber: testNhsNumber(99_100),
      planTypes: ['CPP'],
      accessedBy: {
        userId: 'u🙂',
        userName: 'Dr 𠀀 Zoë Ådahl 🙂',
        organisation: 'RXX01',
        setting: 'A&E – 🚑',
      },
    };
    const item = {
      PK: `AUDIT#${message.nhsNumber}`,
      SK: `ACCESS#${message.occurredAt}#${message.eventId}`,
      kind: 'AUDIT',
      notifies: true,
      messages: [message],
    };
    const result = (await dispatch
      .handler(
        {
          Records: [
            {
              eventName: 'INSERT',
              dynamodb: {
                Keys: marshall({ PK: item.PK, SK: item.SK }) as never,
                NewImage: marshall(item) as never,
                SequenceNumber: '1',
              },
            },
          ],
        },
        lambdaContext('dispatch', 'unicode'),
      )
      .catch((error: Error & { recordErrors?: Error[] }) => ({
        batchItemFailures: [{ itemIdentifier: (error.recordErrors ?? []).map((e) => e.message).join('; ') }],
      }))) as DynamoDBBatchResponse;
    expect(result.batchItemFailures).toEqual([]);
    const delivered = (await service.receiveAll(service.councilQueue(OWN))).filter(
      (m) => m.eventId === message.eventId,
    );
    expect(delivered).toEqual([message]);
  });

  it('audit events with malformed messages written to the table pass through the real stream without holding it up', async () => {
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const { DynamoDBDocumentClient, PutCommand } = await import('@aws-sdk/lib-dynamodb');
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    const samples = fc.sample(fc.oneof(brokenMessage, fc.anything({ maxDepth: 2 })), {
      numRuns: 25,
      seed: 42,
    });
    let written = 0;
    for (const [i, message] of samples.entries()) {
      await documents
        .send(
          new PutCommand({
            TableName: service.tableName,
            Item: {
              PK: 'AUDIT#FUZZ',
              SK: `EVENT#2026-11-20T02:14:09.120Z#FUZZ${i}`,
              kind: 'AUDIT',
              notifies: true,
              messages: [message],
            },
            // fast-check's anything() may produce values DynamoDB cannot hold (e.g. empty sets): skip those
          }),
        )
        .then(
          () => written++,
          () => undefined,
        );
    }
    // Most of them reach the table, and so the stream, for the dispatch function to meet.
    expect(written).toBeGreaterThan(samples.length / 2);
    const child = testNhsNumber(99_000);
    await publishPlan(service, OWN, child, 'CPP', { startDate: '2026-01-01' });
    await service.request('GET', `/v1/children/${child}`, {
      token: await tokens.clinician(['B0107'], { sub: 'after-fuzz' }),
    });
    await service.drained();
    const delivered = (await service.receiveAll(service.councilQueue(OWN))).filter(
      (m) => m.nhsNumber === child,
    );
    expect(delivered.map((m) => [m.nhsNumber, m.accessedBy.userId])).toEqual([[child, 'after-fuzz']]);
    expect(service.streamStats().sentToFailureDestination).toBe(0);
  });
});

/** String() of any generated value, including objects without a prototype. */
function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
