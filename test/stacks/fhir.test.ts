/**
 * The FHIR R4 interface as deployed, read from the synthesized templates of every stage: its own REST
 * API (whose gateway errors are OperationOutcomes), every FHIR path behind the same authorizer function
 * but the metadata, the lookup's throttling, the same web ACL, and with a custom domain a routing rule.
 */
import { operationOutcome, SPINE_ERROR_SYSTEM } from '../../functions/fhir/outcome';
import { FHIR_BASE_PATH, FHIR_CATCH_ALL, routes } from '../../functions/http/routes';
import type { BuiltApp } from '../../stacks/app-builder';
import { parseConfig, stages } from '../../stacks/config';
import { type Resource, regionStacks, regionsOf, resourcesOfType, synthesize, template } from './helpers';
import { statementMatches, type WafStatement } from './waf-eval';

const config = parseConfig(stages);
let built: BuiltApp;

beforeAll(() => {
  built = synthesize(stages);
}, 300_000);

const { regionCases } = regionsOf(config);
const fhirRoutes = routes.filter((route) => route.fhir);

type Ref = { Ref: string };

/** The REST APIs of a region's API stack: the main one and the FHIR one, by logical id. */
function restApis(stage: string, region: string) {
  const api = regionStacks(built, stage, region).api;
  const resources = template(api).toJSON().Resources as Record<string, Resource>;
  const fhirId = api.getLogicalId(api.fhirApi?.node.defaultChild as never);
  const mainId = api.getLogicalId(api.api.node.defaultChild as never);
  return { api, resources, fhirId, mainId };
}

/** Each method with its full path and REST API, resolving the resource tree of the template. */
function methods(resources: Record<string, Resource>) {
  const pathOf = (id: string): string => {
    const resource = resources[id] as Resource;
    const parent = resource.Properties.ParentId as Ref | Record<string, unknown>;
    const prefix = 'Ref' in parent ? pathOf((parent as Ref).Ref) : '';
    return `${prefix}/${resource.Properties.PathPart}`;
  };
  return Object.values(resources)
    .filter((resource) => resource.Type === 'AWS::ApiGateway::Method')
    .map((method) => {
      const props = method.Properties;
      const resourceId = props.ResourceId as Ref | Record<string, unknown>;
      return {
        path: 'Ref' in resourceId ? pathOf((resourceId as Ref).Ref) : '/',
        method: props.HttpMethod as string,
        restApi: (props.RestApiId as Ref).Ref,
        props,
      };
    });
}

describe('the FHIR R4 interface, deployed', () => {
  it('has a public metadata route and two rate-limited searches in the route table', () => {
    expect(
      fhirRoutes.map((route) => [route.method, route.path, !!route.public, !!route.rateLimited]),
    ).toEqual([
      ['GET', `${FHIR_BASE_PATH}/metadata`, true, false],
      ['GET', `${FHIR_BASE_PATH}/CareTeam`, false, true],
      ['GET', `${FHIR_BASE_PATH}/AuditEvent`, false, true],
    ]);
  });

  it.each(regionCases)(
    '%s: every FHIR path is on the FHIR API behind the token authorizer (metadata GET without), none on the main API',
    (_label, { stage, region }) => {
      const { api, resources, fhirId, mainId } = restApis(stage.name, region.region);
      const authorizers = resourcesOfType(api, 'AWS::ApiGateway::Authorizer');
      const fhirAuthorizer = authorizers.find(([, a]) => (a.Properties.RestApiId as Ref).Ref === fhirId);
      const mainAuthorizer = authorizers.find(([, a]) => (a.Properties.RestApiId as Ref).Ref === mainId);
      // The same function, settings and cache as the main API's authorizer.
      const { RestApiId: _fhirApi, Name: _fhirName, ...fhirSettings } = fhirAuthorizer?.[1].Properties ?? {};
      const { RestApiId: _mainApi, Name: _mainName, ...mainSettings } = mainAuthorizer?.[1].Properties ?? {};
      expect(fhirSettings).toEqual(mainSettings);
      expect(fhirSettings).toMatchObject({ Type: 'TOKEN', AuthorizerResultTtlInSeconds: 300 });

      const all = methods(resources);
      expect(all.filter((m) => m.restApi === mainId && m.path.startsWith('/FHIR'))).toEqual([]);
      const fhir = all.filter((m) => m.restApi === fhirId);
      for (const route of fhirRoutes) {
        const found = fhir.filter((m) => m.path === route.path && m.method === route.method);
        expect(found).toHaveLength(1);
        expect(found[0]?.props).toMatchObject(
          route.public
            ? { AuthorizationType: 'NONE', Integration: { Type: 'AWS_PROXY' } }
            : {
                AuthorizationType: 'CUSTOM',
                AuthorizerId: { Ref: fhirAuthorizer?.[0] },
                Integration: { Type: 'AWS_PROXY' },
              },
        );
      }
      // Everything else on the FHIR API (any other method, any other path) needs a token too.
      const others = fhir.filter((m) => !fhirRoutes.some((r) => r.path === m.path && r.method === m.method));
      expect(others.map((m) => m.path).sort()).toEqual(
        [FHIR_BASE_PATH, FHIR_CATCH_ALL.path, ...fhirRoutes.map((r) => r.path)].sort(),
      );
      for (const other of others) {
        expect(other.props).toMatchObject({
          HttpMethod: 'ANY',
          AuthorizationType: 'CUSTOM',
          AuthorizerId: { Ref: fhirAuthorizer?.[0] },
          Integration: { Type: 'AWS_PROXY' },
        });
      }
      expect(
        fhir.filter((m) => m.props.AuthorizationType === 'NONE').map((m) => `${m.method} ${m.path}`),
      ).toEqual([`GET ${FHIR_BASE_PATH}/metadata`]);
    },
  );

  it.each(regionCases)(
    '%s: API Gateway answers refused tokens, throttling and WAF blocks on the FHIR API as OperationOutcomes',
    (_label, { stage, region }) => {
      const { api, fhirId } = restApis(stage.name, region.region);
      const responses = resourcesOfType(api, 'AWS::ApiGateway::GatewayResponse')
        .map(([, r]) => r.Properties)
        .filter((p) => (p.RestApiId as Ref).Ref === fhirId);
      const byType = new Map(responses.map((p) => [p.ResponseType as string, p]));
      const expectOutcome = (type: string, status: string, issue: string, code: string) => {
        const response = byType.get(type);
        expect({ type, status: response?.StatusCode }).toEqual({ type, status });
        const body = JSON.parse(response?.ResponseTemplates['application/json'] as string);
        expect(body).toMatchObject({
          resourceType: 'OperationOutcome',
          issue: [{ code: issue, details: { coding: [{ system: SPINE_ERROR_SYSTEM, code }] } }],
        });
        expect(response?.ResponseParameters).toMatchObject({
          'gatewayresponse.header.Content-Type': "'application/fhir+json'",
          'gatewayresponse.header.Cache-Control': "'no-store'",
          'gatewayresponse.header.X-Request-Id': 'context.requestId',
        });
      };
      for (const type of ['UNAUTHORIZED', 'ACCESS_DENIED', 'EXPIRED_TOKEN', 'INVALID_SIGNATURE'])
        expectOutcome(type, '401', 'login', 'ACCESS_DENIED');
      expectOutcome('THROTTLED', '429', 'throttled', 'TOO_MANY_REQUESTS');
      expectOutcome('WAF_FILTERED', '403', 'forbidden', 'ACCESS_DENIED');
      expectOutcome('MISSING_AUTHENTICATION_TOKEN', '404', 'not-found', 'INVALID_RESOURCE_ID');
      expect(JSON.parse(byType.get('UNAUTHORIZED')?.ResponseTemplates['application/json'] as string)).toEqual(
        operationOutcome('UNAUTHENTICATED', 'A valid bearer token is required'),
      );
    },
  );

  it.each(regionCases)(
    '%s: the FHIR searches get the lookup throttling, and the FHIR stage the same web ACL',
    (_label, { stage, region }) => {
      const { api, fhirId } = restApis(stage.name, region.region);
      const stageResource = resourcesOfType(api, 'AWS::ApiGateway::Stage').find(
        ([, s]) => (s.Properties.RestApiId as Ref).Ref === fhirId,
      )?.[1] as Resource;
      const settings = stageResource.Properties.MethodSettings as Record<string, unknown>[];
      for (const route of fhirRoutes) {
        const limits = route.rateLimited
          ? stage.limits.rateLimitedMethodThrottle
          : stage.limits.methodThrottle;
        expect(settings).toContainEqual(
          expect.objectContaining({
            HttpMethod: route.method,
            ResourcePath: `/${route.path.replace(/\//g, '~1')}`,
            ThrottlingRateLimit: limits.rateLimit,
            ThrottlingBurstLimit: limits.burstLimit,
            DataTraceEnabled: false,
          }),
        );
      }
      const [[aclId, acl]] = resourcesOfType(api, 'AWS::WAFv2::WebACL') as [[string, Resource]];
      const associations = resourcesOfType(api, 'AWS::WAFv2::WebACLAssociation').map(([, a]) => a.Properties);
      const stageId = resourcesOfType(api, 'AWS::ApiGateway::Stage').find(
        ([, s]) => (s.Properties.RestApiId as Ref).Ref === fhirId,
      )?.[0] as string;
      expect(
        associations.some(
          (a) =>
            JSON.stringify(a.ResourceArn).includes(stageId) &&
            JSON.stringify(a.WebACLArn) === JSON.stringify({ 'Fn::GetAtt': [aclId, 'Arn'] }),
        ),
      ).toBe(true);
      // The lookup's rate rules count FHIR searches (with or without the stage prefix); not metadata.
      const rules = acl.Properties.Rules as { Name: string; Statement: WafStatement }[];
      const perCaller = rules.find((rule) => rule.Name === 'RateLimitedRoutesPerCaller');
      const scope = perCaller?.Statement.RateBasedStatement.ScopeDownStatement;
      const wafRequest = (uriPath: string) => ({
        method: 'GET',
        uriPath,
        headers: { authorization: 'Bearer x.y.z' },
        sourceIp: '192.0.2.10',
      });
      for (const path of ['/FHIR/R4/CareTeam', '/live/FHIR/R4/AuditEvent', '/FHIR/R4/%43areTeam'])
        expect({ path, counted: statementMatches(scope, wafRequest(path)) }).toEqual({ path, counted: true });
      expect(statementMatches(scope, wafRequest('/FHIR/R4/metadata'))).toBe(false);
    },
  );

  it.each(regionCases)(
    '%s: with a custom domain, a routing rule sends /FHIR/R4 to the FHIR API, path kept',
    (_label, { stage, region }) => {
      const { api, fhirId } = restApis(stage.name, region.region);
      const rules = resourcesOfType(api, 'AWS::ApiGatewayV2::RoutingRule').map(([, r]) => r.Properties);
      if (!region.domain) {
        expect(rules).toEqual([]);
        return;
      }
      expect(rules).toEqual([
        expect.objectContaining({
          Conditions: [{ MatchBasePaths: { AnyOf: ['FHIR/R4'] } }],
          Actions: [{ InvokeApi: { ApiId: { Ref: fhirId }, Stage: 'live', StripBasePath: false } }],
        }),
      ]);
      template(api).hasResourceProperties('AWS::ApiGateway::DomainName', {
        RoutingMode: 'ROUTING_RULE_THEN_BASE_PATH_MAPPING',
      });
    },
  );
});
