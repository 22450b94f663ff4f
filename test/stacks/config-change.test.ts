/**
 * Adding a council, a region or a route is a change of data, not of code: synthesize the prod stage
 * with one more council, one more region (with a mutual-TLS domain) and one more route, and find
 * each where it belongs.
 */
import { Match } from 'aws-cdk-lib/assertions';
import type { CfnQueue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { type RouteDefinition, routes } from '../../functions/http/routes';
import type { BuiltApp } from '../../stacks/app-builder';
import { type StageConfigInput, stages } from '../../stacks/config';
import { DATA_LOGICAL_IDS } from '../../stacks/data-stack';
import { tableKeyAlias } from '../../stacks/naming';
import { type Resource, regionStacks, resourcesOfType, synthesize, template } from './helpers';

const prod = stages.find((stage) => stage.name === 'prod') as StageConfigInput;
const NEW_COUNCIL = { code: 'E08000025', name: 'Birmingham', consumerAccountId: '666666666666' };
const NEW_REGION = 'eu-central-1';
const NEW_REGION_COUNCIL = {
  code: 'W06000015',
  name: 'Cardiff',
  consumerAccountId: '777777777777',
  consumerTimeoutSeconds: 60,
};

const extended: StageConfigInput = {
  ...prod,
  regions: [
    ...prod.regions.map((region) =>
      region.region === 'eu-west-1' ? { ...region, councils: [...region.councils, NEW_COUNCIL] } : region,
    ),
    {
      region: NEW_REGION,
      alarmEmails: ['cpis-ops-frankfurt@example.org'],
      councils: [NEW_REGION_COUNCIL],
      domain: {
        domainName: 'api-fra.cpis.example.org',
        certificateArn:
          'arn:aws:acm:eu-central-1:222222222222:certificate/11111111-1111-1111-1111-111111111111',
        mutualTls: { truststoreBucket: 'cpis-truststores', truststoreKey: 'councils.pem' },
      },
    },
  ],
};

const lookup = routes.find((route) => route.rateLimited) as RouteDefinition;
const NEW_ROUTE: RouteDefinition = {
  ...lookup,
  method: 'GET',
  path: '/v1/children/{nhsNumber}/summary',
  summary: 'A route added to the table: deployed with no stack change',
};

let built: BuiltApp;
beforeAll(() => {
  built = synthesize([extended], [...routes, NEW_ROUTE]);
}, 300_000);

it('replicates the table to the new region, whose key exists first', () => {
  const primary = regionStacks(built, 'prod', 'eu-west-2').data;
  const table = template(primary).toJSON().Resources[DATA_LOGICAL_IDS.table] as Resource;
  const replicas = table.Properties.Replicas as {
    Region: string;
    SSESpecification: { KMSMasterKeyId: unknown };
  }[];
  expect(replicas.map((replica) => replica.Region).sort()).toEqual([
    'eu-central-1',
    'eu-west-1',
    'eu-west-2',
  ]);
  expect(replicas.find((replica) => replica.Region === NEW_REGION)?.SSESpecification.KMSMasterKeyId).toBe(
    `arn:aws:kms:${NEW_REGION}:${prod.account}:${tableKeyAlias('prod')}`,
  );
  const newData = regionStacks(built, 'prod', NEW_REGION).data;
  template(newData).hasResourceProperties('AWS::KMS::Alias', { AliasName: tableKeyAlias('prod') });
  expect(primary.dependencies).toContain(newData);
  expect(newData.region).toBe(NEW_REGION);
});

it('adds a queue and dead-letter queue for the new council in its home region, and tells that dispatcher', () => {
  const messaging = regionStacks(built, 'prod', 'eu-west-1').messaging;
  expect(messaging.councilQueues.map((queue) => queue.council.code).sort()).toEqual([
    'E08000003',
    NEW_COUNCIL.code,
  ]);
  expect(resourcesOfType(messaging, 'AWS::SQS::Queue')).toHaveLength(2 * 2 + 1);
  const queue = messaging.councilQueues.find((q) => q.council.code === NEW_COUNCIL.code);
  const queueId = messaging.getLogicalId(queue?.queue.node.defaultChild as CfnQueue);
  template(messaging).hasResourceProperties('AWS::SQS::QueuePolicy', {
    Queues: Match.arrayWith([{ Ref: queueId }]),
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${NEW_COUNCIL.consumerAccountId}:root` },
        }),
      ]),
    },
  });
  const dispatch = messaging.getLogicalId(messaging.dispatch.node.defaultChild as never);
  const env = JSON.stringify(
    (template(messaging).toJSON().Resources[dispatch] as Resource).Properties.Environment,
  );
  expect(env).toContain(NEW_COUNCIL.code);
  // A council is delivered by its home region only.
  const london = regionStacks(built, 'prod', 'eu-west-2').messaging;
  expect(london.councilQueues.map((q) => q.council.code)).not.toContain(NEW_COUNCIL.code);
});

it('builds the whole regional unit for the new region, with its council and its own settings', () => {
  const stacks = regionStacks(built, 'prod', NEW_REGION);
  expect(stacks.messaging.councilQueues.map((q) => q.council.code)).toEqual([NEW_REGION_COUNCIL.code]);
  template(stacks.messaging).hasResourceProperties('AWS::SQS::Queue', {
    VisibilityTimeout: 6 * NEW_REGION_COUNCIL.consumerTimeoutSeconds,
  });
  // One web ACL, for the stages of both REST APIs (the main one and the FHIR one).
  template(stacks.api).resourceCountIs('AWS::WAFv2::WebACL', 1);
  template(stacks.api).resourceCountIs('AWS::WAFv2::WebACLAssociation', 2);
  template(stacks.api).resourceCountIs('AWS::ApiGateway::RestApi', 2);
  template(stacks.monitoring).resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  template(stacks.api).hasResourceProperties('AWS::ApiGateway::DomainName', {
    DomainName: 'api-fra.cpis.example.org',
    SecurityPolicy: 'TLS_1_2',
    MutualTlsAuthentication: { TruststoreUri: 's3://cpis-truststores/councils.pem' },
  });
  template(stacks.api).hasResourceProperties('AWS::ApiGateway::RestApi', { DisableExecuteApiEndpoint: true });
});

it('serves a route added to the route table behind the authorizer, throttled and rate-limited like its kind', () => {
  for (const region of ['eu-west-2', NEW_REGION]) {
    const api = regionStacks(built, 'prod', region).api;
    const resources = template(api).toJSON().Resources as Record<string, Resource>;
    const summary = Object.entries(resources).find(
      ([, r]) => r.Type === 'AWS::ApiGateway::Resource' && r.Properties.PathPart === 'summary',
    );
    expect(summary).toBeDefined();
    const methods = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::ApiGateway::Method' &&
        JSON.stringify(r.Properties.ResourceId) === JSON.stringify({ Ref: summary?.[0] }),
    );
    expect(methods.map((m) => [m.Properties.HttpMethod, m.Properties.AuthorizationType]).sort()).toEqual([
      ['ANY', 'NONE'],
      ['GET', 'CUSTOM'],
    ]);
    template(api).hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: 'GET',
          ResourcePath: '/~1v1~1children~1{nhsNumber}~1summary',
          ThrottlingRateLimit: 50,
        }),
      ]),
    });
    const [[, acl]] = resourcesOfType(api, 'AWS::WAFv2::WebACL') as [[string, Resource]];
    expect(JSON.stringify(acl.Properties.Rules)).toContain('/v1/children/[^/]+/summary');
  }
});

it('still has no cdk-nag finding without an acknowledgement', () => {
  for (const pack of [new AwsSolutionsChecks(), new HIPAASecurityChecks()]) {
    expect(pack.validateScope(built.app).violations.map((v) => v.ruleName)).toEqual([]);
  }
});
