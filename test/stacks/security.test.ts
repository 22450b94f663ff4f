/**
 * Guarantees against abuse, read from the synthesized templates of every stage in stacks/config.ts:
 * the web ACL's rate limits key on the caller and on the route, however the request spells them, and
 * a role that only appends audit events can put nothing but audit keys.
 */
import { catalog } from '../../functions/catalog';
import { operationOutcome, SPINE_ERROR_SYSTEM } from '../../functions/fhir/outcome';
import { FHIR_BASE_PATH, type RouteDefinition, routes } from '../../functions/http/routes';
import { tableDefinition } from '../../functions/store/table-definition';
import type { BuiltApp } from '../../stacks/app-builder';
import { LimitsSchema, parseConfig, type StageConfigInput, stages } from '../../stacks/config';
import { OVER_LIMIT_LABEL, RATE_WINDOW_SECONDS } from '../../stacks/constructs/api-firewall';
import { READ_ACTIONS } from '../../stacks/constructs/table-access';
import {
  functionRoles,
  type Resource,
  regionStacks,
  regionsOf,
  resourcesOfType,
  roleStatements,
  synthesize,
} from './helpers';
import { mayPerform } from './iam-eval';
import {
  evaluate,
  rateKey,
  statementMatches,
  type WafRequest,
  type WafRule,
  type WafStatement,
} from './waf-eval';

const config = parseConfig(stages);
let built: BuiltApp;

beforeAll(() => {
  built = synthesize(stages);
}, 300_000);

const { regionCases } = regionsOf(config);

function webAcl(built: BuiltApp, stage: string, region: string): Resource {
  const api = regionStacks(built, stage, region).api;
  const [[, acl]] = resourcesOfType(api, 'AWS::WAFv2::WebACL') as [[string, Resource]];
  return acl;
}

function webAclRules(built: BuiltApp, stage: string, region: string): WafRule[] {
  return webAcl(built, stage, region).Properties.Rules as WafRule[];
}

const rateRules = (rules: WafRule[]) => rules.filter((rule) => rule.Statement.RateBasedStatement);

// Three-part tokens of the JWT alphabet; the second differs from the first in its signature only.
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1MSIsIm9yZyI6IlJYWDAxIn0.SIGNATUREpart_-01';
const OTHER_TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1MSIsIm9yZyI6IlJYWDAxIn0.differentSIG_-02';

/** The 64 case spellings of "Bearer", all of which API Gateway and the authorizer accept. */
const SCHEME_SPELLINGS = Array.from({ length: 64 }, (_, bits) =>
  [...'bearer'].map((letter, i) => (bits & (1 << i) ? letter.toUpperCase() : letter)).join(''),
);

const SAMPLE_PARAMETERS: Record<string, string> = {
  councilCode: 'E09000001',
  nhsNumber: '9990000018',
  oldNhsNumber: '9990000018',
  newNhsNumber: '9990000026',
  planType: 'CPP',
};
/** The rate-limited routes (rateLimited: true in routes.ts), as the contract names them. */
const RATE_LIMITED_ROUTES = [
  'GET /v1/children/{nhsNumber}',
  'GET /v1/children/{nhsNumber}/alert',
  `GET ${FHIR_BASE_PATH}/CareTeam`,
  `GET ${FHIR_BASE_PATH}/AuditEvent`,
];
const samplePath = (route: RouteDefinition) =>
  route.path.replace(/\{(\w+)\}/g, (_, name: string) => SAMPLE_PARAMETERS[name] ?? 'x');

const request = (method: string, uriPath: string, authorization?: string): WafRequest => ({
  method,
  uriPath,
  headers: authorization === undefined ? {} : { authorization },
  sourceIp: '192.0.2.10',
});

const LOOKUP_PATH = '/v1/children/9990000018';
/** The lookup path as clients may send it: API Gateway routes every one of these to the lookup. */
const LOOKUP_SPELLINGS = [
  LOOKUP_PATH,
  `${LOOKUP_PATH}/`,
  `/live${LOOKUP_PATH}`,
  '/v1/%63hildren/9990000018',
  '/v1/children/%39990000018',
  '/%76%31/%63%68%69%6C%64%72%65%6E/%39%39%39%30%30%30%30%30%31%38',
  '/%6cive/v1/children/9990000018',
  '/v1//children/9990000018',
];
/** The other rate-limited routes (the presence check, the FHIR searches), spelt in the same ways. */
const OTHER_RATE_LIMITED_SPELLINGS = [
  '/v1/children/9990000018/alert',
  '/live/v1/children/9990000018/alert/',
  '/v1/children/9990000018/%61lert',
  '/FHIR/R4/CareTeam',
  '/live/FHIR/R4/CareTeam',
  '/FHIR/R4/%43areTeam',
  '/FHIR//R4/AuditEvent',
  '/FHIR/R4/AuditEvent/',
];
const NOT_LOOKUPS = [
  '/v1/audit/children/9990000018',
  '/v1/%61udit/children/9990000018',
  '/v1/children/9990000018/extra',
  '/v1/councils/E09000001/plans/9990000018/CPP',
  '/v1/councils/E09000001/children/9990000018/accesses',
  '/FHIR/R4/metadata',
  '/FHIR/R4/Patient',
  '/FHIR/R4/CareTeam/extra',
  '/fhir/r4/CareTeam',
];

describe('WAF: rate limits key on the caller, not on how the request is spelt', () => {
  it.each(regionCases)(
    '%s: every rate-based rule counts all 64 case spellings of the scheme, and any whitespace, as one key',
    (_label, { stage, region }) => {
      const rules = rateRules(webAclRules(built, stage.name, region.region));
      expect(rules.length).toBeGreaterThan(0);
      for (const rule of rules) {
        const statement = rule.Statement.RateBasedStatement;
        const spellings = [
          ...SCHEME_SPELLINGS.map((scheme) => `${scheme} ${TOKEN}`),
          `Bearer  ${TOKEN}`,
          `Bearer\t${TOKEN}`,
        ];
        const keys = new Set(
          spellings.map((authorization) => rateKey(statement, request('GET', LOOKUP_PATH, authorization))),
        );
        expect({ rule: rule.Name, keys: keys.size }).toEqual({ rule: rule.Name, keys: 1 });
        expect({ rule: rule.Name, counted: [...keys][0] !== undefined }).toEqual({
          rule: rule.Name,
          counted: true,
        });
      }
    },
  );

  it.each(regionCases)(
    '%s: no rate rule keys on the raw Authorization header or matches the raw path',
    (_label, { stage, region }) => {
      const types = (transformations: { Type: string }[]) => transformations.map((t) => t.Type);
      /** Every statement inside a scope-down, nested ones included. */
      const flatten = (statement: WafStatement | undefined): WafStatement[] =>
        statement === undefined
          ? []
          : [
              statement,
              ...((statement.AndStatement ?? statement.OrStatement)?.Statements ?? []).flatMap(flatten),
              ...flatten(statement.NotStatement?.Statement),
            ];
      for (const rule of rateRules(webAclRules(built, stage.name, region.region))) {
        const statement = rule.Statement.RateBasedStatement;
        expect(['IP', 'CUSTOM_KEYS']).toContain(statement.AggregateKeyType);
        for (const key of statement.CustomKeys ?? []) {
          if (String(key.Header?.Name).toLowerCase() !== 'authorization') continue;
          expect({ rule: rule.Name, key: types(key.Header.TextTransformations) }).toEqual({
            rule: rule.Name,
            key: expect.arrayContaining(['LOWERCASE', 'COMPRESS_WHITE_SPACE']),
          });
        }
        for (const match of flatten(statement.ScopeDownStatement)) {
          const pathMatch = [match.RegexMatchStatement, match.ByteMatchStatement].find(
            (m) => m?.FieldToMatch.UriPath,
          );
          if (!pathMatch) continue;
          expect({ rule: rule.Name, path: types(pathMatch.TextTransformations) }).toEqual({
            rule: rule.Name,
            path: expect.arrayContaining(['URL_DECODE']),
          });
        }
      }
    },
  );

  it.each(regionCases)(
    '%s: the lookup rules count the lookup however its path is percent-encoded or prefixed, and nothing else',
    (_label, { stage, region }) => {
      const rules = rateRules(webAclRules(built, stage.name, region.region));
      // The rules scoped down to routes (the every-route rule's scope-down only leaves out the
      // requests they already found over their limit).
      const lookupRules = rules.filter((rule) =>
        JSON.stringify(rule.Statement.RateBasedStatement.ScopeDownStatement ?? {}).includes('UriPath'),
      );
      // Per caller and per source address, at the configured limits.
      expect(
        lookupRules.map((rule) => rule.Statement.RateBasedStatement.Limit).sort((a, b) => a - b),
      ).toEqual(
        [stage.limits.lookupsPerMinutePerUser, stage.limits.lookupsPerMinutePerOrganisation].sort(
          (a, b) => a - b,
        ),
      );
      expect(
        routes.filter((route) => route.rateLimited).map((route) => `${route.method} ${route.path}`),
      ).toEqual(RATE_LIMITED_ROUTES);
      for (const rule of lookupRules) {
        const scope = rule.Statement.RateBasedStatement.ScopeDownStatement;
        for (const path of [...LOOKUP_SPELLINGS, ...OTHER_RATE_LIMITED_SPELLINGS])
          expect({ rule: rule.Name, path, counted: statementMatches(scope, request('GET', path)) }).toEqual({
            rule: rule.Name,
            path,
            counted: true,
          });
        for (const path of NOT_LOOKUPS)
          expect({ rule: rule.Name, path, counted: statementMatches(scope, request('GET', path)) }).toEqual({
            rule: rule.Name,
            path,
            counted: false,
          });
        expect(statementMatches(scope, request('PUT', LOOKUP_PATH))).toBe(false);
      }
      // The per-user one keys on the caller: two tokens, two budgets; the per-address one on the address.
      const perUser = lookupRules.find(
        (rule) => rule.Statement.RateBasedStatement.Limit === stage.limits.lookupsPerMinutePerUser,
      ) as WafRule;
      const key = (token: string, path = LOOKUP_PATH) =>
        rateKey(perUser.Statement.RateBasedStatement, request('GET', path, `Bearer ${token}`));
      expect(key(TOKEN)).not.toEqual(key(OTHER_TOKEN));
      expect(key(TOKEN, '/v1/%63hildren/9990000018')).toEqual(key(TOKEN));
    },
  );

  it.each(regionCases)(
    '%s: one rule limits each caller on every route at requestsPerMinutePerCaller per 60 s, answering 429 THROTTLED',
    (_label, { stage, region }) => {
      expect(stage.limits.requestsPerMinutePerCaller).toBe(300);
      const rules = webAclRules(built, stage.name, region.region);
      const everyRoute = rateRules(rules).filter((rule) => {
        const statement = rule.Statement.RateBasedStatement;
        if (statement.Limit !== stage.limits.requestsPerMinutePerCaller) return false;
        // Counts every route, with or without the stage prefix and however the path is encoded...
        const requests = routes.flatMap((route) => {
          const path = samplePath(route);
          return [path, `/live${path}`, path.replace('/v1/', '/%76%31/')].map((uri) =>
            request(route.method, uri, `Bearer ${TOKEN}`),
          );
        });
        const keys = new Set(requests.map((r) => rateKey(statement, r)));
        // ... under one key per caller: the same for all of one token's requests, another for another token.
        return (
          keys.size === 1 &&
          !keys.has(undefined) &&
          rateKey(statement, request('GET', LOOKUP_PATH, `bearer ${OTHER_TOKEN}`)) !== [...keys][0]
        );
      });
      expect(everyRoute.map((rule) => rule.Name)).toHaveLength(1);
      const [rule] = everyRoute as [WafRule];
      expect(rule.Statement.RateBasedStatement.EvaluationWindowSec).toBe(RATE_WINDOW_SECONDS);
      expect(RATE_WINDOW_SECONDS).toBe(60);
      // It counts and labels; a caller over it is answered 429 THROTTLED on a REST route.
      expect(rule.Action).toEqual({ Count: {} });
      expect(rule.RuleLabels).toEqual([{ Name: OVER_LIMIT_LABEL }]);
      const verdict = evaluate(
        rules,
        request('GET', '/v1/audit/children/9990000018', `Bearer ${TOKEN}`),
        new Set([rule.Name]),
      );
      expect(verdict.response).toEqual({
        status: 429,
        bodyKey: 'throttled',
        headers: expect.objectContaining({ 'Retry-After': String(RATE_WINDOW_SECONDS) }),
      });
      // Rate rules come before the managed rule groups, and no two rules share a priority.
      const priorities = rules.map((r) => r.Priority);
      expect(new Set(priorities).size).toBe(priorities.length);
    },
  );

  it.each(regionCases)(
    '%s: a caller over a limit is answered 429 with Retry-After: an OperationOutcome on FHIR paths, the THROTTLED error elsewhere',
    (_label, { stage, region }) => {
      const acl = webAcl(built, stage.name, region.region);
      const rules = acl.Properties.Rules as WafRule[];
      const bodies = acl.Properties.CustomResponseBodies as Record<
        string,
        { ContentType: string; Content: string }
      >;
      const rateRuleNames = rateRules(rules).map((rule) => rule.Name);
      expect(rateRuleNames).toHaveLength(3);
      const fhirPaths = [
        '/FHIR/R4/CareTeam',
        '/live/FHIR/R4/AuditEvent',
        '/FHIR/R4/%43areTeam',
        '/FHIR//R4/CareTeam',
        '/FHIR/R4/metadata',
        '/FHIR/R4/Patient/123',
        '/FHIR/R4',
      ];
      const restPaths = [
        LOOKUP_PATH,
        '/live/v1/children/9990000018/alert',
        '/v1/audit/children/9990000018',
        '/v1/councils/E09000001/plans',
        '/FHIR/R4x/CareTeam',
        '/fhir/R4/CareTeam',
        '/v1/FHIR/R4/CareTeam',
      ];
      const answered: Record<string, string | undefined> = {};
      for (const overLimit of rateRuleNames) {
        for (const path of [...fhirPaths, ...restPaths]) {
          const wafRequest = request('GET', path, `Bearer ${TOKEN}`);
          // Each rate rule counts only some of these (its scope-down); over its limit, those are blocked.
          const counted = rateKey(
            (rules.find((rule) => rule.Name === overLimit) as WafRule).Statement.RateBasedStatement,
            wafRequest,
          );
          const verdict = evaluate(rules, wafRequest, new Set([overLimit]));
          expect({ overLimit, path, blocked: verdict.blocked }).toEqual({
            overLimit,
            path,
            blocked: counted !== undefined,
          });
          if (!verdict.blocked) continue;
          expect(verdict.response).toEqual({
            status: 429,
            bodyKey: expect.any(String),
            headers: { 'Retry-After': String(RATE_WINDOW_SECONDS), 'Cache-Control': 'no-store' },
          });
          answered[`${overLimit} ${path}`] = verdict.response?.bodyKey;
          expect({ path, body: verdict.response?.bodyKey }).toEqual({
            path,
            body: fhirPaths.includes(path) ? 'throttledFhir' : 'throttled',
          });
        }
        // Under every limit, nothing is blocked.
        for (const path of [...fhirPaths, ...restPaths])
          expect(evaluate(rules, request('GET', path, `Bearer ${TOKEN}`), new Set()).blocked).toBe(false);
      }
      // Every path was throttled by at least the every-route rule, in its API's body.
      expect(answered[`AllRoutesPerCaller ${fhirPaths[0]}`]).toBe('throttledFhir');
      expect(answered[`AllRoutesPerCaller ${LOOKUP_PATH}`]).toBe('throttled');
      expect(answered[`RateLimitedRoutesPerCaller ${fhirPaths[0]}`]).toBe('throttledFhir');
      expect(answered[`RateLimitedRoutesPerSourceAddress ${LOOKUP_PATH}`]).toBe('throttled');

      expect(bodies.throttledFhir?.ContentType).toBe('APPLICATION_JSON');
      const outcome = JSON.parse(bodies.throttledFhir?.Content as string);
      expect(outcome).toEqual(operationOutcome('THROTTLED', expect.any(String)));
      expect(outcome.issue[0]).toMatchObject({
        severity: 'error',
        code: 'throttled',
        details: { coding: [{ system: SPINE_ERROR_SYSTEM, code: 'TOO_MANY_REQUESTS' }] },
      });
      expect(JSON.parse(bodies.throttled?.Content as string)).toEqual({
        error: { code: 'THROTTLED', message: expect.any(String) },
      });
    },
  );

  it.each(regionCases)(
    "%s: a lookup over its limit is blocked without using up the caller's every-route budget; the two APIs share that budget",
    (_label, { stage, region }) => {
      const rules = webAclRules(built, stage.name, region.region);
      const everyRoute = rules.find((rule) => rule.Name === 'AllRoutesPerCaller') as WafRule;
      const lookup = request('GET', LOOKUP_PATH, `Bearer ${TOKEN}`);
      const verdict = evaluate(rules, lookup, new Set(['RateLimitedRoutesPerCaller']));
      expect(verdict).toMatchObject({ blocked: true, rule: 'Throttled' });
      // Labelled over the limit by the lookup rule, the request is not counted by the every-route rule.
      expect(verdict.labels.some((label) => label.endsWith(`:${OVER_LIMIT_LABEL}`))).toBe(true);
      expect(rateKey(everyRoute.Statement.RateBasedStatement, lookup, verdict.labels)).toBeUndefined();
      expect(rateKey(everyRoute.Statement.RateBasedStatement, lookup)).toBeDefined();
      // One key per caller whichever API the request is for: one web ACL, one budget.
      const fhirKey = rateKey(
        everyRoute.Statement.RateBasedStatement,
        request('GET', '/FHIR/R4/CareTeam', `Bearer ${TOKEN}`),
      );
      expect(fhirKey).toEqual(rateKey(everyRoute.Statement.RateBasedStatement, lookup));
    },
  );

  it('the per-caller and lookup limits come from the stage config', () => {
    const dev = stages.find((stage) => stage.name === 'dev') as StageConfigInput;
    const custom = synthesize([
      { ...dev, limits: { ...dev.limits, requestsPerMinutePerCaller: 450, lookupsPerMinutePerUser: 60 } },
    ]);
    const limits = rateRules(webAclRules(custom, 'dev', 'eu-west-2')).map(
      (rule) => rule.Statement.RateBasedStatement.Limit,
    );
    expect(limits.sort((a, b) => a - b)).toEqual([60, 450, 1200]);
  }, 120_000);

  it("requestsPerMinutePerCaller defaults to the contract's 300 and must be at least WAF's minimum of 10", () => {
    expect(LimitsSchema.parse({}).requestsPerMinutePerCaller).toBe(300);
    expect(LimitsSchema.parse({ requestsPerMinutePerCaller: 10 }).requestsPerMinutePerCaller).toBe(10);
    for (const bad of [9, 0, -1, 1.5]) {
      expect(LimitsSchema.safeParse({ requestsPerMinutePerCaller: bad }).success).toBe(false);
    }
  });
});

describe('IAM: a role that only appends audit events writes audit keys only', () => {
  const AUDIT = `${tableDefinition.auditKeyPrefix}9990000018`;
  const PLAN = 'CHILD#9990000018';
  const COUNCIL = 'COUNCIL#E09000001';
  const AUDIT_ONLY = ['lookup', 'council-accesses', 'fhir-search'] as const;
  /** Serves a fixed CapabilityStatement: reads nothing, writes nothing, refuses no one. */
  const NO_TABLE = 'fhir-metadata';
  const TABLE_ACTIONS = [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:Scan',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:BatchWriteItem',
    'dynamodb:ConditionCheckItem',
    'dynamodb:TransactWriteItems',
  ];

  const statementsOf = (stage: string, region: string, entry: string) => {
    const api = regionStacks(built, stage, region).api;
    const fn = api.functions.get(entry);
    const role = functionRoles(api).get(api.getLogicalId(fn?.node.defaultChild as never)) as string;
    return roleStatements(api, role);
  };

  it('the catalogue marks exactly lookup, council-accesses and fhir-search as writing audit items only (audit-query writes none)', () => {
    const marked = Object.entries(catalog.api)
      .filter(([, spec]) => spec.table.writesAuditOnly)
      .map(([entry]) => entry)
      .sort();
    expect(marked).toEqual([...AUDIT_ONLY].sort());
  });

  it.each(regionCases)(
    '%s: lookup, council-accesses and fhir-search may put an audit key but no plan, status or council key; their reads are unconditioned',
    (_label, { stage, region }) => {
      for (const entry of AUDIT_ONLY) {
        const statements = statementsOf(stage.name, region.region, entry);
        const put = (leadingKeys: string[]) => mayPerform(statements, 'dynamodb:PutItem', { leadingKeys });
        expect({ entry, audit: put([AUDIT]), plan: put([PLAN]), council: put([COUNCIL]) }).toEqual({
          entry,
          audit: true,
          plan: false,
          council: false,
        });
        // No leading key (ForAllValues alone would pass an empty set), a mixed set, another spelling.
        expect({ entry, none: put([]), mixed: put([AUDIT, PLAN]), lower: put(['audit#9990000018']) }).toEqual(
          {
            entry,
            none: false,
            mixed: false,
            lower: false,
          },
        );
        const reads = catalog.api[entry].table.actions.filter((action) => READ_ACTIONS.includes(action));
        expect(reads.length).toBeGreaterThan(0);
        for (const action of reads) {
          for (const key of [PLAN, COUNCIL, AUDIT])
            expect({
              entry,
              action,
              key,
              allowed: mayPerform(statements, action, { leadingKeys: [key] }),
            }).toEqual({
              entry,
              action,
              key,
              allowed: true,
            });
        }
      }
    },
  );

  it.each(regionCases)(
    '%s: every API role but fhir-metadata may update coalesced refusals (REFUSALS#) and no other key; audit-query may put nothing; fhir-metadata may touch no table item at all',
    (_label, { stage, region }) => {
      const api = regionStacks(built, stage.name, region.region).api;
      expect(catalog.api[NO_TABLE].table.actions).toEqual([]);
      const metadata = statementsOf(stage.name, region.region, NO_TABLE);
      for (const action of TABLE_ACTIONS)
        for (const key of ['REFUSALS#9990000018', AUDIT, PLAN, COUNCIL])
          expect({ action, key, allowed: mayPerform(metadata, action, { leadingKeys: [key] }) }).toEqual({
            action,
            key,
            allowed: false,
          });
      // No Allow names a DynamoDB action (the append-only Deny every role carries may).
      expect(JSON.stringify(metadata.filter((statement) => statement.Effect === 'Allow'))).not.toContain(
        'dynamodb:',
      );
      const refusing = [...api.functions.keys()].filter((entry) => entry !== NO_TABLE);
      expect(refusing.length).toBe(api.functions.size - 1);
      for (const entry of refusing) {
        const statements = statementsOf(stage.name, region.region, entry);
        const update = (key: string) => mayPerform(statements, 'dynamodb:UpdateItem', { leadingKeys: [key] });
        expect({ entry, refusals: update('REFUSALS#9990000018'), audit: update(AUDIT) }).toEqual({
          entry,
          refusals: true,
          audit: false,
        });
      }
      const auditQuery = statementsOf(stage.name, region.region, 'audit-query');
      expect(mayPerform(auditQuery, 'dynamodb:PutItem', { leadingKeys: [AUDIT] })).toBe(false);
      expect(mayPerform(auditQuery, 'dynamodb:UpdateItem', { leadingKeys: [PLAN] })).toBe(false);
    },
  );

  it.each(regionCases)(
    '%s: roles that write other items still may (put-plan a plan, register-council a council); none may update or delete an audit key',
    (_label, { stage, region }) => {
      const put = (entry: string, key: string) =>
        mayPerform(statementsOf(stage.name, region.region, entry), 'dynamodb:PutItem', {
          leadingKeys: [key],
        });
      expect(put('put-plan', PLAN)).toBe(true);
      expect(put('put-plan', AUDIT)).toBe(true);
      expect(put('register-council', COUNCIL)).toBe(true);
      for (const entry of Object.keys(catalog.api)) {
        const statements = statementsOf(stage.name, region.region, entry);
        for (const action of ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'])
          expect({
            entry,
            action,
            allowed: mayPerform(statements, action, { leadingKeys: [AUDIT] }),
          }).toEqual({
            entry,
            action,
            allowed: false,
          });
      }
    },
  );
});
