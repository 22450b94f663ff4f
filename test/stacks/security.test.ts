/**
 * Guarantees against abuse, read from the synthesized templates of every stage in stacks/config.ts:
 * the web ACL's rate limits key on the caller and on the route, however the request spells them, and
 * a role that only appends audit events can put nothing but audit keys.
 */
import { catalog } from '../../functions/catalog';
import { type RouteDefinition, routes } from '../../functions/http/routes';
import { tableDefinition } from '../../functions/store/table-definition';
import type { BuiltApp } from '../../stacks/app-builder';
import { LimitsSchema, parseConfig, type StageConfigInput, stages } from '../../stacks/config';
import { RATE_WINDOW_SECONDS } from '../../stacks/constructs/api-firewall';
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
import { rateKey, statementMatches, type WafRequest, type WafStatement } from './waf-eval';

const config = parseConfig(stages);
let built: BuiltApp;

beforeAll(() => {
  built = synthesize(stages);
}, 300_000);

const { regionCases } = regionsOf(config);

interface WafRule {
  Name: string;
  Priority: number;
  Statement: WafStatement;
  Action?: WafStatement;
}

function webAclRules(built: BuiltApp, stage: string, region: string): WafRule[] {
  const api = regionStacks(built, stage, region).api;
  const [[, acl]] = resourcesOfType(api, 'AWS::WAFv2::WebACL') as [[string, Resource]];
  return acl.Properties.Rules as WafRule[];
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
const NOT_LOOKUPS = [
  '/v1/audit/children/9990000018',
  '/v1/%61udit/children/9990000018',
  '/v1/children/9990000018/extra',
  '/v1/councils/E09000001/plans/9990000018/CPP',
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
      const lookupRules = rules.filter((rule) => rule.Statement.RateBasedStatement.ScopeDownStatement);
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
      ).toEqual(['GET /v1/children/{nhsNumber}']);
      for (const rule of lookupRules) {
        const scope = rule.Statement.RateBasedStatement.ScopeDownStatement;
        for (const path of LOOKUP_SPELLINGS)
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
      expect(rule.Action?.Block?.CustomResponse).toEqual({
        ResponseCode: 429,
        CustomResponseBodyKey: 'throttled',
        ResponseHeaders: expect.arrayContaining([
          { Name: 'Retry-After', Value: String(RATE_WINDOW_SECONDS) },
        ]),
      });
      // Rate rules come before the managed rule groups, and no two rules share a priority.
      const priorities = rules.map((r) => r.Priority);
      expect(new Set(priorities).size).toBe(priorities.length);
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
  const AUDIT_ONLY = ['lookup'] as const;

  const statementsOf = (stage: string, region: string, entry: string) => {
    const api = regionStacks(built, stage, region).api;
    const fn = api.functions.get(entry);
    const role = functionRoles(api).get(api.getLogicalId(fn?.node.defaultChild as never)) as string;
    return roleStatements(api, role);
  };

  it('the catalogue marks exactly lookup as writing audit items only (audit-query writes none)', () => {
    const marked = Object.entries(catalog.api)
      .filter(([, spec]) => spec.table.writesAuditOnly)
      .map(([entry]) => entry)
      .sort();
    expect(marked).toEqual([...AUDIT_ONLY].sort());
  });

  it.each(regionCases)(
    '%s: lookup may put an audit key but no plan, status or council key; its reads are unconditioned',
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
    '%s: every API role may update coalesced refusals (REFUSALS#) and no other key; audit-query may put nothing',
    (_label, { stage, region }) => {
      const api = regionStacks(built, stage.name, region.region).api;
      for (const entry of api.functions.keys()) {
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
