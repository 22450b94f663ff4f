/**
 * The guarantees of the deployed stacks, read from the synthesized templates of every stage in
 * stacks/config.ts (one synthesis shared by the whole file).
 */
import { Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { CfnQueue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { UNAUTHENTICATED_MESSAGE } from '../../functions/http/errors';
import { parseIssuers } from '../../functions/http/issuers';
import { BODY_LIMIT_BYTES, routes } from '../../functions/http/routes';
import { tableDefinition } from '../../functions/store/table-definition';
import type { BuiltApp } from '../../stacks/app-builder';
import { parseConfig, type StageConfig, stages } from '../../stacks/config';
import { OVER_LIMIT_LABEL } from '../../stacks/constructs/api-firewall';
import { COUNCIL_CONSUMER_ACTIONS } from '../../stacks/constructs/council-queue';
import { MIN_REASON_LENGTH } from '../../stacks/constructs/nag';
import { LOCAL_ONLY_ENVIRONMENT } from '../../stacks/constructs/service-function';
import { API_TABLE_ACCESS, AUDIT_IMMUTABLE_ACTIONS } from '../../stacks/constructs/table-access';
import { DATA_LOGICAL_IDS } from '../../stacks/data-stack';
import { councilQueuePrefix, tableKeyAlias, tableName } from '../../stacks/naming';
import {
  allStacks,
  asArray,
  functionRoles,
  type Resource,
  regionStacks,
  regionsOf,
  resourcesOfType,
  roleStatements,
  type Statement,
  synthesize,
  template,
} from './helpers';
import { glob, mayPerform } from './iam-eval';

const config = parseConfig(stages);
let built: BuiltApp;

beforeAll(() => {
  built = synthesize(stages);
}, 300_000);

const { everyRegion, regionCases } = regionsOf(config);

describe('cdk-nag and synthesis', () => {
  it.each([
    ['AwsSolutions', () => new AwsSolutionsChecks()],
    ['HIPAA Security', () => new HIPAASecurityChecks()],
  ])('%s: no finding lacks an acknowledgement, in any stage', (_name, pack) => {
    const report = pack().validateScope(built.app);
    const findings = report.violations.flatMap((violation) =>
      violation.violatingResources.map((resource) => `${violation.ruleName} at ${resource.constructPath}`),
    );
    expect(findings).toEqual([]);
  });

  it('every acknowledgement carries a written reason', () => {
    const acknowledgements = built.app.node
      .findAll()
      .flatMap((construct) =>
        construct.node.metadata
          .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          .flatMap((entry) => Object.entries(entry.data as Record<string, string>)),
      );
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const [id, reason] of acknowledgements) {
      expect({ id, reasonLength: reason.trim().length >= MIN_REASON_LENGTH }).toEqual({
        id,
        reasonLength: true,
      });
    }
  });

  it('synthesizes every stack of every stage with no warning or error annotation', () => {
    expect(allStacks(built)).toHaveLength(everyRegion.length * 4);
    const messages = [...built.stages.values()].flatMap(({ stage }) =>
      stage
        .synth()
        .stacks.flatMap((stack) =>
          stack.messages
            .filter((m) => m.level !== 'info')
            .map((m) => `${m.level} at ${m.id}: ${String(m.entry.data)}`),
        ),
    );
    expect(messages).toEqual([]);
  });

  it('deploys each stage as one unit named after it, one account per stage', () => {
    for (const stage of config) {
      const builtStage = built.stages.get(stage.name);
      expect(builtStage?.stage.stageName).toBe(stage.name);
      for (const stacks of builtStage?.regions.values() ?? []) {
        for (const stack of [stacks.data, stacks.messaging, stacks.api, stacks.monitoring]) {
          expect(stack.node.path.startsWith(`${stage.name}/`)).toBe(true);
          expect(stack.account).toBe(stage.account);
        }
      }
    }
  });
});

describe('data', () => {
  it.each(config.map((stage) => [stage.name, stage] as const))(
    '%s: one global table, in the primary region, with a replica in every region of the stage',
    (_name, stage) => {
      for (const region of stage.regions) {
        const tables = resourcesOfType(
          regionStacks(built, stage.name, region.region).data,
          'AWS::DynamoDB::GlobalTable',
        );
        expect(tables).toHaveLength(region.region === stage.primaryRegion ? 1 : 0);
      }
      const data = regionStacks(built, stage.name, stage.primaryRegion).data;
      const table = template(data).toJSON().Resources[DATA_LOGICAL_IDS.table] as Resource;
      expect(table.Type).toBe('AWS::DynamoDB::GlobalTable');
      const replicas = table.Properties.Replicas as { Region: string }[];
      expect(replicas.map((replica) => replica.Region).sort()).toEqual(
        stage.regions.map((r) => r.region).sort(),
      );
    },
  );

  it.each(config.map((stage) => [stage.name, stage] as const))(
    "%s: PITR and deletion protection on every replica, each encrypted with its region's customer-managed key",
    (_name, stage) => {
      const data = regionStacks(built, stage.name, stage.primaryRegion).data;
      const table = template(data).toJSON().Resources[DATA_LOGICAL_IDS.table] as Resource;
      expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS' });
      expect(table.Properties.TableName).toBe(tableName(stage.name));
      for (const replica of table.Properties.Replicas as Record<string, unknown>[]) {
        expect(replica.PointInTimeRecoverySpecification).toMatchObject({ PointInTimeRecoveryEnabled: true });
        expect(replica.DeletionProtectionEnabled).toBe(true);
        const key = (replica.SSESpecification as { KMSMasterKeyId: unknown }).KMSMasterKeyId;
        if (replica.Region === stage.primaryRegion) {
          expect(key).toEqual({ 'Fn::GetAtt': [DATA_LOGICAL_IDS.tableKey, 'Arn'] });
        } else {
          expect(key).toBe(`arn:aws:kms:${replica.Region}:${stage.account}:${tableKeyAlias(stage.name)}`);
        }
      }
    },
  );

  it('pins the logical ids of the table and keys, retains them, and protects the stacks from termination', () => {
    for (const { stage, region } of everyRegion) {
      const data = regionStacks(built, stage.name, region.region).data;
      expect(data.terminationProtection).toBe(true);
      const t = template(data);
      t.hasResource('AWS::KMS::Key', {
        Properties: Match.objectLike({ EnableKeyRotation: true }),
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
      expect((t.toJSON().Resources[DATA_LOGICAL_IDS.tableKey] as Resource).Type).toBe('AWS::KMS::Key');
      t.hasResourceProperties('AWS::KMS::Alias', { AliasName: tableKeyAlias(stage.name) });
      if (region.region === stage.primaryRegion) {
        t.hasResource('AWS::DynamoDB::GlobalTable', {
          DeletionPolicy: 'Retain',
          UpdateReplacePolicy: 'Retain',
        });
      }
    }
  });

  it('has the GSI, a stream (the dispatchers filter it to audit events carrying messages) and TTL on expiresAt', () => {
    expect(tableDefinition.timeToLiveAttribute).toBe('expiresAt');
    const data = regionStacks(built, 'prod', 'eu-west-2').data;
    template(data).hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [
        { AttributeName: tableDefinition.partitionKey, KeyType: 'HASH' },
        { AttributeName: tableDefinition.sortKey, KeyType: 'RANGE' },
      ],
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'GSI1' })],
      // Plans leave the table once they can no longer be visible (DynamoDB deletes them, typically within two days).
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('creates the replica keys before the table that names them', () => {
    const prod = config.find((stage) => stage.name === 'prod');
    const primary = regionStacks(built, 'prod', prod?.primaryRegion as string).data;
    const replica = regionStacks(built, 'prod', 'eu-west-1').data;
    expect(primary.dependencies).toContain(replica);
  });
});

describe('messaging', () => {
  it.each(regionCases)(
    '%s: one queue and one dead-letter queue per council homed in the region',
    (_label, { stage, region }) => {
      const messaging = regionStacks(built, stage.name, region.region).messaging;
      // the councils' queues and DLQs, plus the dispatcher's on-failure queue
      expect(resourcesOfType(messaging, 'AWS::SQS::Queue')).toHaveLength(2 * region.councils.length + 1);
      expect(messaging.councilQueues.map((queue) => queue.council.code).sort()).toEqual(
        region.councils.map((council) => council.code).sort(),
      );
      const resources = template(messaging).toJSON().Resources as Record<string, Resource>;
      for (const council of messaging.councilQueues) {
        const queueId = messaging.getLogicalId(council.queue.node.defaultChild as CfnQueue);
        const dlqId = messaging.getLogicalId(council.deadLetterQueue.node.defaultChild as CfnQueue);
        const queue = resources[queueId]?.Properties as Record<string, unknown>;
        const dlq = resources[dlqId]?.Properties as Record<string, unknown>;
        const redrive = queue.RedrivePolicy as { deadLetterTargetArn: unknown; maxReceiveCount: number };
        expect(redrive.deadLetterTargetArn).toEqual({ 'Fn::GetAtt': [dlqId, 'Arn'] });
        expect(redrive.maxReceiveCount).toBeGreaterThanOrEqual(5);
        expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * council.council.consumerTimeoutSeconds);
        for (const props of [queue, dlq]) {
          expect(props.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
          expect(props.MessageRetentionPeriod).toBe(14 * 24 * 3600);
        }
      }
    },
  );

  it.each(regionCases)(
    "%s: each council's queues enforce TLS and let only the council's account receive and delete",
    (_label, { stage, region }) => {
      const messaging = regionStacks(built, stage.name, region.region).messaging;
      const policies = resourcesOfType(messaging, 'AWS::SQS::QueuePolicy');
      for (const council of messaging.councilQueues) {
        for (const queue of [council.queue, council.deadLetterQueue]) {
          const queueId = messaging.getLogicalId(queue.node.defaultChild as CfnQueue);
          const policy = policies.find(([, p]) =>
            asArray(p.Properties.Queues as unknown[]).some(
              (q) => JSON.stringify(q) === JSON.stringify({ Ref: queueId }),
            ),
          );
          const statements = asArray(
            ((policy as [string, Resource])[1].Properties.PolicyDocument as { Statement: Statement[] })
              .Statement,
          );
          expect(statements).toContainEqual(
            expect.objectContaining({
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          );
          const allows = statements.filter((s) => s.Effect === 'Allow');
          expect(allows).toHaveLength(1);
          const [allow] = allows as [Statement];
          const principal = JSON.stringify(allow.Principal);
          expect(principal).toContain(`:iam::${council.council.consumerAccountId}:root`);
          expect(principal.match(/\d{12}/g)).toEqual([council.council.consumerAccountId]);
          expect(asArray(allow.Action).sort()).toEqual([...COUNCIL_CONSUMER_ACTIONS].sort());
          expect(asArray(allow.Action)).toEqual(
            expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage']),
          );
          expect(asArray(allow.Action)).not.toContain('sqs:SendMessage');
        }
      }
    },
  );

  it.each(regionCases)(
    '%s: the dispatcher knows every council by home region and may send to the queues of those homed here only',
    (_label, { stage, region }) => {
      const messaging = regionStacks(built, stage.name, region.region).messaging;
      const dispatchId = messaging.getLogicalId(messaging.dispatch.node.defaultChild as never);
      const fn = template(messaging).toJSON().Resources[dispatchId] as Resource;
      const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables.TABLE_NAME).toBe(tableName(stage.name));
      const prefix = councilQueuePrefix(stage.name);
      expect(
        resolveJoin(variables.COUNCIL_QUEUE_URL_PREFIX).replace('Ref(AWS::URLSuffix)', 'amazonaws.com'),
      ).toBe(`https://sqs.${region.region}.amazonaws.com/${stage.account}/${prefix}`);
      // Every council of the stage by home region: a message for one no region serves is held, not
      // dropped, and registration refuses such a council.
      const homes = Object.fromEntries(
        stage.regions.map((r) => [r.region, r.councils.map((c) => c.code).sort()]),
      );
      expect(JSON.parse(variables.COUNCIL_HOMES as string)).toEqual(homes);
      expect(Object.keys(variables).sort()).toEqual([
        'COUNCIL_HOMES',
        'COUNCIL_QUEUE_URL_PREFIX',
        'POWERTOOLS_METRICS_NAMESPACE',
        'TABLE_NAME',
      ]);
      const everyCouncil = stage.regions.flatMap((r) => r.councils.map((c) => c.code)).sort();
      const api = regionStacks(built, stage.name, region.region).api;
      const registration = api.functions.get('register-council');
      const registrationFn = template(api).toJSON().Resources[
        api.getLogicalId(registration?.node.defaultChild as never)
      ] as Resource;
      expect(
        JSON.parse(
          (registrationFn.Properties.Environment as { Variables: Record<string, string> }).Variables
            .STAGE_COUNCIL_CODES as string,
        ),
      ).toEqual(everyCouncil);

      // The queue names the dispatcher and the councils' consumers rely on.
      const resources = template(messaging).toJSON().Resources as Record<string, Resource>;
      const nameOf = (queue: IConstruct) =>
        resources[messaging.getLogicalId(queue.node.defaultChild as CfnQueue)]?.Properties.QueueName;
      for (const council of messaging.councilQueues) {
        expect(nameOf(council.queue)).toBe(`${prefix}${council.council.code}`);
        expect(nameOf(council.deadLetterQueue)).toBe(`${prefix}${council.council.code}-dlq`);
      }

      const role = functionRoles(messaging).get(dispatchId) as string;
      const statements = roleStatements(messaging, role);
      const arn = (name: string) => `arn:aws:sqs:${region.region}:${stage.account}:${name}`;
      const sends = statements.filter((s) => asArray(s.Action).includes('sqs:SendMessage'));
      const matching = (effect: string, target: string) =>
        sends.some(
          (s) =>
            s.Effect === effect &&
            asArray(s.Resource).some((pattern) => typeof pattern === 'string' && glob(pattern).test(target)),
        );
      const maySend = (target: string) => matching('Allow', target) && !matching('Deny', target);
      for (const council of messaging.councilQueues) {
        const code = council.council.code;
        expect(maySend(arn(`${prefix}${code}`))).toBe(true);
        expect(maySend(arn(`${prefix}${code}-dlq`))).toBe(false);
      }
      expect(maySend(arn(`child-protection-sharing-${stage.name}x-council-E09000001`))).toBe(false);
      const failureQueue = JSON.stringify({
        'Fn::GetAtt': [
          messaging.getLogicalId(messaging.dispatchFailures.node.defaultChild as CfnQueue),
          'Arn',
        ],
      });
      expect(
        sends.map((s) => [
          s.Effect,
          asArray(s.Resource).map((r) => (typeof r === 'string' ? r : JSON.stringify(r))),
        ]),
      ).toEqual(
        expect.arrayContaining([
          ['Allow', [arn(`${prefix}*`)]],
          ['Deny', [arn(`${prefix}*-dlq`)]],
        ]),
      );
      expect(sends.flatMap((s) => asArray(s.Resource)).map((r) => JSON.stringify(r))).toContain(failureQueue);
      expect(sends).toHaveLength(3);
    },
  );

  it.each(regionCases)(
    '%s: the stream event source passes inserts of audit events carrying messages and audit changes only, bisects, reports partial failures and keeps what it gives up on',
    (_label, { stage, region }) => {
      const messaging = regionStacks(built, stage.name, region.region).messaging;
      const failures = messaging.getLogicalId(messaging.dispatchFailures.node.defaultChild as CfnQueue);
      template(messaging).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        // Written out: test/unit/dispatch-filter.test.ts tries these very patterns against records.
        FilterCriteria: {
          Filters: [
            {
              Pattern:
                '{"eventName":["INSERT"],"dynamodb":{"Keys":{"PK":{"S":[{"prefix":"AUDIT#"}]}},"NewImage":{"notifies":{"BOOL":[true]}}}}',
            },
            {
              Pattern:
                '{"eventName":["MODIFY","REMOVE"],"dynamodb":{"Keys":{"PK":{"S":[{"prefix":"AUDIT#"}]}}}}',
            },
          ],
        },
        BisectBatchOnFunctionError: true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumRetryAttempts: Match.anyValue(),
        MaximumRecordAgeInSeconds: Match.anyValue(),
        StartingPosition: 'TRIM_HORIZON',
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [failures, 'Arn'] } } },
        EventSourceArn: { 'Fn::GetAtt': [Match.anyValue(), 'Table.LatestStreamArn'] },
      });
      template(messaging).hasResourceProperties('AWS::SQS::Queue', {
        SqsManagedSseEnabled: true,
      });
    },
  );
});

describe('api', () => {
  /** Full path of every API Gateway resource, by logical id. */
  function resourcePaths(resources: Record<string, Resource>): Map<string, string> {
    const paths = new Map<string, string>();
    const pathOf = (id: string): string => {
      const known = paths.get(id);
      if (known !== undefined) return known;
      const props = resources[id]?.Properties as { ParentId: { Ref?: string }; PathPart: string };
      const parent = props.ParentId.Ref ? pathOf(props.ParentId.Ref) : '';
      const path = `${parent}/${props.PathPart}`;
      paths.set(id, path);
      return path;
    };
    for (const [id, resource] of Object.entries(resources))
      if (resource.Type === 'AWS::ApiGateway::Resource') pathOf(id);
    return paths;
  }

  function methodsByRoute(resources: Record<string, Resource>) {
    const paths = resourcePaths(resources);
    return Object.values(resources)
      .filter((resource) => resource.Type === 'AWS::ApiGateway::Method')
      .map((method) => {
        const props = method.Properties as Record<string, unknown> & {
          ResourceId: { Ref: string };
          RestApiId: { Ref: string };
        };
        return {
          path: paths.get(props.ResourceId.Ref),
          method: props.HttpMethod as string,
          restApi: props.RestApiId.Ref,
          props,
        };
      });
  }

  type Ref = { Ref: string };
  /**
   * The region's two REST APIs (the main one and the FHIR one), each with its own authorizer,
   * validator and stage, found by the REST API they name.
   */
  function restApisOf(stage: string, region: string) {
    const api = regionStacks(built, stage, region).api;
    const ofApi = (type: string, restApiId: string) =>
      resourcesOfType(api, type).filter(([, r]) => (r.Properties.RestApiId as Ref).Ref === restApiId);
    const describe = (restApiId: string) => {
      const [[authorizerId]] = ofApi('AWS::ApiGateway::Authorizer', restApiId) as [[string, Resource]];
      const [[validatorId]] = ofApi('AWS::ApiGateway::RequestValidator', restApiId) as [[string, Resource]];
      const stages = ofApi('AWS::ApiGateway::Stage', restApiId);
      expect(stages).toHaveLength(1);
      const [[stageId, stageResource]] = stages as [[string, Resource]];
      return { restApiId, authorizerId, validatorId, stageId, stageResource };
    };
    const main = describe(api.getLogicalId(api.api.node.defaultChild as never));
    const fhir = describe(api.getLogicalId(api.fhirApi?.node.defaultChild as never));
    expect(
      resourcesOfType(api, 'AWS::ApiGateway::RestApi')
        .map(([id]) => id)
        .sort(),
    ).toEqual([main.restApiId, fhir.restApiId].sort());
    return { api, main, fhir };
  }

  it.each(regionCases)(
    "%s: every route of the route table has a method on its REST API behind that API's token authorizer (the public FHIR metadata aside)",
    (_label, { stage, region }) => {
      const { api, main, fhir } = restApisOf(stage.name, region.region);
      const resources = template(api).toJSON().Resources as Record<string, Resource>;
      const methods = methodsByRoute(resources);
      expect(routes.filter((route) => route.public).map((route) => `${route.method} ${route.path}`)).toEqual([
        'GET /FHIR/R4/metadata',
      ]);
      for (const route of routes) {
        const own = route.fhir ? fhir : main;
        const found = methods.filter((m) => m.path === route.path && m.method === route.method);
        expect(found).toHaveLength(1);
        expect(found[0]?.restApi).toBe(own.restApiId);
        expect(found[0]?.props).toMatchObject({
          ...(route.public
            ? { AuthorizationType: 'NONE' }
            : { AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: own.authorizerId } }),
          RequestValidatorId: { Ref: own.validatorId },
          Integration: { Type: 'AWS_PROXY' },
        });
      }
      // On the FHIR API any other method or path reaches the FHIR function's 404 OperationOutcome,
      // behind the authorizer (test/stacks/fhir.test.ts reads it in detail).
      const fhirOthers = methods.filter(
        (m) =>
          m.restApi === fhir.restApiId && !routes.some((r) => r.path === m.path && r.method === m.method),
      );
      expect(fhirOthers.length).toBeGreaterThan(0);
      for (const other of fhirOthers)
        expect(other.props).toMatchObject({
          HttpMethod: 'ANY',
          AuthorizationType: 'CUSTOM',
          AuthorizerId: { Ref: fhir.authorizerId },
          Integration: { Type: 'AWS_PROXY' },
        });
      // On the main API any other method is a 405 mock on a routed path; nothing else is reachable.
      const others = methods.filter(
        (m) =>
          m.restApi === main.restApiId && !routes.some((r) => r.path === m.path && r.method === m.method),
      );
      for (const other of others) {
        expect(other.method).toBe('ANY');
        const allowed = routes.filter((r) => r.path === other.path).map((r) => r.method);
        expect(allowed.length).toBeGreaterThan(0);
        expect(other.props).toMatchObject({
          AuthorizationType: 'NONE',
          Integration: {
            Type: 'MOCK',
            IntegrationResponses: [
              {
                StatusCode: '405',
                ResponseParameters: expect.objectContaining({
                  'method.response.header.Allow': `'${allowed.sort().join(', ')}'`,
                }),
              },
            ],
          },
        });
      }
      const authorizers = resourcesOfType(api, 'AWS::ApiGateway::Authorizer');
      expect(authorizers.map(([id]) => id).sort()).toEqual([main.authorizerId, fhir.authorizerId].sort());
      const authorizerFunctionId = api.getLogicalId(api.authorizerFunction.node.defaultChild as never);
      for (const [, authorizer] of authorizers) {
        expect(authorizer.Properties).toMatchObject({
          Type: 'TOKEN',
          IdentitySource: 'method.request.header.Authorization',
          AuthorizerResultTtlInSeconds: 300,
        });
        // Both run the one authorizer function.
        expect(authorizer.Properties.AuthorizerUri).toEqual(authorizers[0]?.[1].Properties.AuthorizerUri);
        expect(JSON.stringify(authorizer.Properties.AuthorizerUri)).toContain(authorizerFunctionId);
      }
    },
  );

  it.each(regionCases)(
    '%s: the authorizer trusts the configured issuers and never the local key',
    (_label, { stage, region }) => {
      const api = regionStacks(built, stage.name, region.region).api;
      const id = api.getLogicalId(api.authorizerFunction.node.defaultChild as never);
      const variables = (
        (template(api).toJSON().Resources[id] as Resource).Properties.Environment as {
          Variables: Record<string, string>;
        }
      ).Variables;
      expect(parseIssuers(variables.JWT_ISSUERS as string)).toEqual(stage.identity.issuers);
      expect(variables.JWT_AUDIENCE).toBe(stage.identity.audience);
    },
  );

  it('no deployed function of any stage names the local identity provider in its environment', () => {
    let functions = 0;
    for (const stack of allStacks(built)) {
      for (const [, fn] of resourcesOfType(stack, 'AWS::Lambda::Function')) {
        functions++;
        const variables =
          (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
        for (const name of LOCAL_ONLY_ENVIRONMENT) expect(Object.keys(variables)).not.toContain(name);
        expect(JSON.stringify(variables)).not.toMatch(/local-development|LOCAL_JWT|127\.0\.0\.1|localhost/);
      }
    }
    expect(functions).toBeGreaterThan(routes.length);
  });

  it.each(regionCases)(
    '%s: per-method throttling on both REST APIs, tighter on rate-limited routes',
    (_label, { stage, region }) => {
      const { main, fhir } = restApisOf(stage.name, region.region);
      const settingsOf = (api: typeof main) =>
        api.stageResource.Properties.MethodSettings as Record<string, unknown>[];
      const escapePath = (path: string) => `/${path.replace(/\//g, '~1')}`;
      for (const api of [main, fhir])
        expect(settingsOf(api)).toContainEqual(
          expect.objectContaining({
            HttpMethod: '*',
            ResourcePath: '/*',
            ThrottlingRateLimit: stage.limits.methodThrottle.rateLimit,
            ThrottlingBurstLimit: stage.limits.methodThrottle.burstLimit,
            LoggingLevel: 'ERROR',
            DataTraceEnabled: false,
          }),
        );
      for (const route of routes) {
        // A route's settings are on the stage of the API that serves it.
        const settings = settingsOf(route.fhir ? fhir : main);
        const limits = route.rateLimited
          ? stage.limits.rateLimitedMethodThrottle
          : stage.limits.methodThrottle;
        expect(settings).toContainEqual(
          expect.objectContaining({
            HttpMethod: route.method,
            ResourcePath: escapePath(route.path),
            ThrottlingRateLimit: limits.rateLimit,
            ThrottlingBurstLimit: limits.burstLimit,
            LoggingLevel: 'ERROR',
            DataTraceEnabled: false,
          }),
        );
      }
      expect(routes.some((route) => route.rateLimited && !route.fhir)).toBe(true);
      expect(routes.some((route) => route.rateLimited && route.fhir)).toBe(true);
    },
  );

  it.each(regionCases)(
    '%s: on both REST APIs, access logs, execution logs (no data trace), and no X-Ray on the stage (its segments record URLs, which hold NHS numbers)',
    (_label, { stage, region }) => {
      const { api, main, fhir } = restApisOf(stage.name, region.region);
      // The execution log group API Gateway would otherwise create, never expiring and not under our key:
      // one per REST API, named after it, made before its stage.
      const executionLogs = resourcesOfType(api, 'AWS::Logs::LogGroup').filter(([, group]) =>
        JSON.stringify(group.Properties.LogGroupName ?? '').includes('API-Gateway-Execution-Logs_'),
      );
      expect(executionLogs).toHaveLength(2);
      for (const restApi of [main, fhir]) {
        const own = executionLogs.filter(([, group]) =>
          JSON.stringify(group.Properties.LogGroupName).includes(`{"Ref":"${restApi.restApiId}"}`),
        );
        expect({ api: restApi.restApiId, groups: own.length }).toEqual({ api: restApi.restApiId, groups: 1 });
        const [[executionLogsId, executionLogGroup]] = own as [[string, Resource]];
        expect(executionLogGroup.Properties).toMatchObject({
          RetentionInDays: stage.logRetentionDays,
          KmsKeyId: expect.anything(),
        });
        expect(JSON.stringify(executionLogGroup.Properties.LogGroupName)).toContain('/live');
        const stageResource = restApi.stageResource;
        expect(stageResource.DependsOn).toContain(executionLogsId);
        expect(stageResource.Properties).toMatchObject({
          TracingEnabled: false,
          AccessLogSetting: {
            DestinationArn: expect.anything(),
            Format: expect.stringMatching(/\$context\.requestId/),
          },
        });
        expect(stageResource.Properties.MethodSettings).toContainEqual(
          expect.objectContaining({
            HttpMethod: '*',
            ResourcePath: '/*',
            LoggingLevel: 'ERROR',
            DataTraceEnabled: false,
          }),
        );
        const format = (stageResource.Properties.AccessLogSetting as { Format: string }).Format;
        expect(format).not.toMatch(/\$context\.path\b/);
      }
    },
  );

  it.each(regionCases)(
    '%s: one web ACL, with managed rule groups and per-caller lookup rate limits, is associated with the stages of both REST APIs',
    (_label, { stage, region }) => {
      const { api, main, fhir } = restApisOf(stage.name, region.region);
      const acls = resourcesOfType(api, 'AWS::WAFv2::WebACL');
      expect(acls).toHaveLength(1);
      const [[aclId, acl]] = acls as [[string, Resource]];
      const associations = resourcesOfType(api, 'AWS::WAFv2::WebACLAssociation').map(([, a]) => a.Properties);
      expect(associations).toHaveLength(2);
      for (const association of associations)
        expect(association.WebACLArn).toEqual({ 'Fn::GetAtt': [aclId, 'Arn'] });
      // Each stage exactly once.
      for (const restApi of [main, fhir])
        expect(
          associations.filter((a) => JSON.stringify(a.ResourceArn).includes(`"${restApi.stageId}"`)),
        ).toHaveLength(1);
      expect(acl.Properties.Scope).toBe('REGIONAL');

      const rules = acl.Properties.Rules as {
        Name: string;
        Statement: Record<string, any>;
        Action?: Record<string, any>;
        RuleLabels?: { Name: string }[];
      }[];
      const managed = rules.map((rule) => rule.Statement.ManagedRuleGroupStatement?.Name).filter(Boolean);
      expect(managed).toEqual(
        expect.arrayContaining([
          'AWSManagedRulesCommonRuleSet',
          'AWSManagedRulesKnownBadInputsRuleSet',
          'AWSManagedRulesAmazonIpReputationList',
        ]),
      );
      const perCaller = rules.find((rule) => rule.Name === 'RateLimitedRoutesPerCaller');
      expect(perCaller?.Statement.RateBasedStatement).toMatchObject({
        Limit: stage.limits.lookupsPerMinutePerUser,
        EvaluationWindowSec: 60,
        AggregateKeyType: 'CUSTOM_KEYS',
        CustomKeys: [{ Header: { Name: 'authorization' } }],
      });
      const perAddress = rules.find((rule) => rule.Name === 'RateLimitedRoutesPerSourceAddress');
      expect(perAddress?.Statement.RateBasedStatement).toMatchObject({
        Limit: stage.limits.lookupsPerMinutePerOrganisation,
        AggregateKeyType: 'IP',
      });
      const rateLimited = routes.filter((r) => r.rateLimited);
      expect(rateLimited.map((r) => `${r.method} ${r.path}`)).toEqual([
        'GET /v1/children/{nhsNumber}',
        'GET /v1/children/{nhsNumber}/alert',
        'GET /FHIR/R4/CareTeam',
        'GET /FHIR/R4/AuditEvent',
      ]);
      for (const rule of [perCaller, perAddress]) {
        // The rate rules count and label; the throttle rules after them block (test/stacks/security.test.ts).
        expect(rule?.Action).toEqual({ Count: {} });
        expect(rule?.RuleLabels).toEqual([{ Name: OVER_LIMIT_LABEL }]);
        // The scope-down matches the rate-limited routes (GET, each path with or without the stage
        // prefix), one statement per route, and nothing else.
        const scope = rule?.Statement.RateBasedStatement.ScopeDownStatement;
        const perRoute = scope.OrStatement.Statements as Record<string, any>[];
        expect(perRoute).toHaveLength(rateLimited.length);
        const pathRegexes = perRoute.map((statement) => {
          const [method, path] = statement.AndStatement.Statements as Record<string, any>[];
          expect(method?.ByteMatchStatement).toMatchObject({
            FieldToMatch: { Method: {} },
            PositionalConstraint: 'EXACTLY',
            SearchString: 'GET',
          });
          expect(path?.RegexMatchStatement.FieldToMatch).toEqual({ UriPath: {} });
          return new RegExp(path?.RegexMatchStatement.RegexString);
        });
        const counted = (uri: string) => pathRegexes.some((regex) => regex.test(uri));
        for (const uri of [
          '/v1/children/9990000018',
          '/v1/children/9990000018/',
          '/live/v1/children/9990000018',
          '/v1/children/9990000018/alert',
          '/FHIR/R4/CareTeam',
          '/live/FHIR/R4/AuditEvent',
        ])
          expect({ uri, counted: counted(uri) }).toEqual({ uri, counted: true });
        for (const uri of [
          '/v1/audit/children/9990000018',
          '/v1/children/9990000018/extra',
          '/v1/councils/E09000001/plans/9990000018/CPP',
          '/v1/children/',
          '/FHIR/R4/metadata',
          '/FHIR/R4/Patient',
        ])
          expect({ uri, counted: counted(uri) }).toEqual({ uri, counted: false });
      }
      // Each API's own 429 body: the contract's error, and on FHIR paths an OperationOutcome.
      const bodies = acl.Properties.CustomResponseBodies as Record<string, { Content: string }>;
      expect(JSON.parse(bodies.throttled?.Content as string)).toEqual({
        error: { code: 'THROTTLED', message: expect.any(String) },
      });
      expect(JSON.parse(bodies.throttledFhir?.Content as string)).toMatchObject({
        resourceType: 'OperationOutcome',
        issue: [{ code: 'throttled', details: { coding: [{ code: 'TOO_MANY_REQUESTS' }] } }],
      });
      for (const [name, key] of [
        ['Throttled', 'throttled'],
        ['ThrottledFhir', 'throttledFhir'],
      ] as const)
        expect(rules.find((rule) => rule.Name === name)?.Action?.Block?.CustomResponse).toMatchObject({
          ResponseCode: 429,
          CustomResponseBodyKey: key,
        });
      // Bodies Lambda could not take are refused with the contract's 413, not failed as 5xx.
      const tooLarge = rules.find((rule) => rule.Name === 'BodyOverLimit');
      expect(tooLarge?.Action?.Block?.CustomResponse).toMatchObject({
        ResponseCode: 413,
        CustomResponseBodyKey: 'tooLarge',
      });
      const match = tooLarge?.Statement.RegexMatchStatement;
      expect(match.FieldToMatch).toEqual({ SingleHeader: { Name: 'content-length' } });
      const pattern = new RegExp(match.RegexString);
      for (const length of [BODY_LIMIT_BYTES, BODY_LIMIT_BYTES + 1, 9_999_999, 10_000_000, 123_456_789])
        expect(pattern.test(String(length))).toBe(true);
      expect(pattern.test(`00${BODY_LIMIT_BYTES}`)).toBe(true);
      for (const length of [0, 16_384, 999_999, BODY_LIMIT_BYTES - 1])
        expect(pattern.test(String(length))).toBe(false);
      const tooLargeBody = (acl.Properties.CustomResponseBodies as Record<string, { Content: string }>)
        .tooLarge?.Content as string;
      expect(JSON.parse(tooLargeBody)).toEqual({
        error: {
          code: 'PAYLOAD_TOO_LARGE',
          message: `The request body must be at most ${BODY_LIMIT_BYTES - 1} bytes`,
        },
      });
      template(api).hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
        RedactedFields: Match.arrayWith([{ SingleHeader: { Name: 'authorization' } }, { UriPath: {} }]),
      });
    },
  );

  it('gateway errors use the contract body with Cache-Control: no-store and X-Request-Id', () => {
    const api = regionStacks(built, 'prod', 'eu-west-2').api;
    const responses = resourcesOfType(api, 'AWS::ApiGateway::GatewayResponse').map(
      ([, r]) => r.Properties as Record<string, any>,
    );
    const byType = (type: string) => responses.find((r) => r.ResponseType === type);
    const expectError = (type: string, status: string | undefined, code: string) => {
      const response = byType(type);
      expect(response?.StatusCode).toBe(status);
      expect(response?.ResponseParameters).toMatchObject({
        'gatewayresponse.header.Cache-Control': "'no-store'",
        'gatewayresponse.header.X-Request-Id': 'context.requestId',
      });
      const body = JSON.parse(response?.ResponseTemplates['application/json']);
      expect(body.error.code).toBe(code);
      return body;
    };
    for (const type of ['UNAUTHORIZED', 'ACCESS_DENIED', 'EXPIRED_TOKEN', 'INVALID_SIGNATURE']) {
      expect(expectError(type, '401', 'UNAUTHENTICATED').error.message).toBe(UNAUTHENTICATED_MESSAGE);
    }
    expectError('MISSING_AUTHENTICATION_TOKEN', '404', 'NOT_FOUND');
    expectError('THROTTLED', '429', 'THROTTLED');
    expect(byType('THROTTLED')?.ResponseParameters['gatewayresponse.header.Retry-After']).toBeDefined();
    expectError('QUOTA_EXCEEDED', '429', 'THROTTLED');
    expectError('WAF_FILTERED', '403', 'FORBIDDEN');
    expectError('REQUEST_TOO_LARGE', '413', 'PAYLOAD_TOO_LARGE');
    expectError('UNSUPPORTED_MEDIA_TYPE', '415', 'UNSUPPORTED_MEDIA_TYPE');
    expectError('DEFAULT_5XX', undefined, 'INTERNAL');
  });

  it('a region with a custom domain serves TLS 1.2+ there and closes the execute-api endpoint', () => {
    const api = regionStacks(built, 'prod', 'eu-west-2').api;
    template(api).hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: 'api.cpis.example.org',
      SecurityPolicy: 'TLS_1_2',
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
    template(api).hasResourceProperties('AWS::ApiGateway::RestApi', { DisableExecuteApiEndpoint: true });
    const other = regionStacks(built, 'prod', 'eu-west-1').api;
    expect(resourcesOfType(other, 'AWS::ApiGateway::DomainName')).toHaveLength(0);
  });
});

describe('functions', () => {
  it('every function: Node 24 on arm64, active tracing, reserved concurrency, encrypted log group with retention', () => {
    for (const { stage, region } of everyRegion) {
      const stacks = regionStacks(built, stage.name, region.region);
      for (const stack of [stacks.api, stacks.messaging]) {
        const resources = template(stack).toJSON().Resources as Record<string, Resource>;
        // Ours run as a role of their own that says which handler file it runs (ServiceFunction).
        const ours = resourcesOfType(stack, 'AWS::Lambda::Function').filter(([, fn]) => {
          const role = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
          return String(resources[role]?.Properties.Description ?? '').startsWith('Runs functions/');
        });
        expect(ours).toHaveLength(stack === stacks.api ? new Set(routes.map((r) => r.entry)).size + 1 : 1);
        for (const [, fn] of ours) {
          expect(fn.Properties).toMatchObject({
            Runtime: 'nodejs24.x',
            Architectures: ['arm64'],
            TracingConfig: { Mode: 'Active' },
            Handler: 'index.handler',
            ReservedConcurrentExecutions: expect.any(Number),
          });
          // Source maps are decoded offline, not at every cold start.
          const variables = (fn.Properties.Environment as { Variables?: Record<string, string> })?.Variables;
          expect(variables?.NODE_OPTIONS ?? '').not.toContain('--enable-source-maps');
          const logGroup = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
          expect(resources[logGroup]?.Properties).toMatchObject({
            RetentionInDays: stage.logRetentionDays,
            KmsKeyId: { 'Fn::GetAtt': [expect.any(String), 'Arn'] },
          });
        }
      }
    }
  });

  it('reserved concurrency comes from the stage config', () => {
    const prod = config.find((stage) => stage.name === 'prod');
    const api = regionStacks(built, 'prod', 'eu-west-2').api;
    const concurrency = (entry: string) => {
      const fn = api.functions.get(entry);
      const id = api.getLogicalId(fn?.node.defaultChild as never);
      return (template(api).toJSON().Resources[id] as Resource).Properties.ReservedConcurrentExecutions;
    };
    expect(concurrency('lookup')).toBe(prod?.limits.reservedConcurrency.byEntry.lookup);
    expect(concurrency('put-plan')).toBe(prod?.limits.reservedConcurrency.api);
  });

  it("API functions finish within API Gateway's 29 s integration timeout", () => {
    const api = regionStacks(built, 'prod', 'eu-west-2').api;
    for (const [, fn] of api.functions) {
      const id = api.getLogicalId(fn.node.defaultChild as never);
      const timeout = (template(api).toJSON().Resources[id] as Resource).Properties.Timeout as number;
      expect(timeout).toBeLessThanOrEqual(29);
    }
  });
});

describe('least privilege', () => {
  it('no IAM statement in any stack allows a wildcard action, and none allows dynamodb Scan or table-wide actions', () => {
    for (const stack of allStacks(built)) {
      for (const [, policy] of resourcesOfType(stack, 'AWS::IAM::Policy')) {
        for (const statement of asArray(
          (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
        )) {
          if (statement.Effect !== 'Allow') continue;
          for (const action of asArray(statement.Action)) {
            expect(action).not.toContain('*');
            expect(action).not.toMatch(
              /^dynamodb:(Scan|DeleteTable|UpdateTable|CreateTable|BatchWriteItem|PartiQL)/,
            );
          }
        }
      }
    }
  });

  // What each function really uses is checked on the wire: test/integration/reliability/iam-actions.test.ts.
  it('each API function role grants exactly its entry in API_TABLE_ACCESS', () => {
    const api = regionStacks(built, 'prod', 'eu-west-2').api;
    const roles = functionRoles(api);
    // Every API function, by its entry: one without an entry in API_TABLE_ACCESS fails here.
    expect([...api.functions.keys()].sort()).toEqual(Object.keys(API_TABLE_ACCESS).sort());
    expect(
      Object.entries(API_TABLE_ACCESS)
        .filter(([, access]) => access.actions.length === 0)
        .map(([entry]) => entry),
    ).toEqual(['fhir-metadata']);
    for (const [entry, fn] of api.functions) {
      const access = API_TABLE_ACCESS[entry] as (typeof API_TABLE_ACCESS)[string];
      const statements = roleStatements(
        api,
        roles.get(api.getLogicalId(fn.node.defaultChild as never)) as string,
      );
      // Besides its entry, every API function may update coalesced-refusal items (REFUSALS#) only; one
      // with no table access (the FHIR CapabilityStatement) refuses no one and gets no grant at all.
      const refusals = statements.filter((s) => s.Sid === 'RecordsRefusals');
      expect({ entry, refusals }).toEqual({
        entry,
        refusals:
          access.actions.length === 0
            ? []
            : [
                expect.objectContaining({
                  Effect: 'Allow',
                  Action: 'dynamodb:UpdateItem',
                  Condition: {
                    'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['REFUSALS#*'] },
                    Null: { 'dynamodb:LeadingKeys': 'false' },
                  },
                }),
              ],
      });
      const dynamo = statements
        .filter((s) => s.Effect === 'Allow' && s.Sid !== 'RecordsRefusals')
        .flatMap((s) => asArray(s.Action))
        .filter((action) => action.startsWith('dynamodb:'));
      expect(dynamo.sort()).toEqual([...access.actions].sort());
    }
  });

  it('no function role of any stack can update or delete an audit item; plan items stay writable where granted', () => {
    let roles = 0;
    for (const stack of allStacks(built)) {
      for (const [, role] of functionRoles(stack)) {
        roles++;
        const statements = roleStatements(stack, role);
        for (const action of AUDIT_IMMUTABLE_ACTIONS) {
          expect({
            role,
            action,
            allowed: mayPerform(statements, action, { leadingKeys: ['AUDIT#9990000018'] }),
          }).toEqual({
            role,
            action,
            allowed: false,
          });
        }
      }
    }
    expect(roles).toBeGreaterThan(routes.length);
    // The Deny is what stops it: delete-plan may delete plan items, not audit items.
    const api = regionStacks(built, 'prod', 'eu-west-2').api;
    const deletePlan = api.functions.get('delete-plan');
    const role = functionRoles(api).get(api.getLogicalId(deletePlan?.node.defaultChild as never)) as string;
    const statements = roleStatements(api, role);
    expect(mayPerform(statements, 'dynamodb:DeleteItem', { leadingKeys: ['CHILD#9990000018'] })).toBe(true);
    expect(mayPerform(statements, 'dynamodb:DeleteItem', { leadingKeys: ['AUDIT#9990000018'] })).toBe(false);
  });

  it('every service function role carries the explicit append-only Deny on audit leading keys', () => {
    let checked = 0;
    for (const stack of allStacks(built)) {
      const resources = template(stack).toJSON().Resources as Record<string, Resource>;
      for (const [, role] of functionRoles(stack)) {
        // Ours run as a role of their own that says which handler file it runs (ServiceFunction);
        // CDK's own helper functions are not ours to constrain.
        if (!String(resources[role]?.Properties.Description ?? '').startsWith('Runs functions/')) continue;
        checked++;
        const deny = roleStatements(stack, role).find((s) => s.Sid === 'AuditTrailIsAppendOnly');
        expect(deny).toEqual({
          Sid: 'AuditTrailIsAppendOnly',
          Effect: 'Deny',
          Action: expect.arrayContaining([...AUDIT_IMMUTABLE_ACTIONS]),
          Resource: '*',
          Condition: {
            'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [`${tableDefinition.auditKeyPrefix}*`] },
          },
        });
      }
    }
    // Every API entry, the authorizer and the dispatch function, in every region.
    expect(checked).toBe(everyRegion.length * (new Set(routes.map((r) => r.entry)).size + 2));
  });
});

describe('monitoring', () => {
  it.each(regionCases)(
    '%s: alarms for 5xx rate, p99 latency, dead letters, notifications left waiting, dispatch errors, throttles, iterator age and audit changes',
    (_label, { stage, region }) => {
      const monitoring = regionStacks(built, stage.name, region.region).monitoring;
      const alarms = resourcesOfType(monitoring, 'AWS::CloudWatch::Alarm').map(
        ([, a]) => a.Properties as Record<string, any>,
      );
      const [[topicId]] = resourcesOfType(monitoring, 'AWS::SNS::Topic') as [[string, Resource]];
      for (const alarm of alarms) {
        expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
        expect(alarm.OKActions).toEqual([{ Ref: topicId }]);
      }
      expect(
        alarms.some((a) =>
          a.Metrics?.some((m: { Expression?: string }) => m.Expression?.includes('100 * errors / requests')),
        ),
      ).toBe(true);
      expect(alarms.some((a) => a.MetricName === 'Latency' && a.ExtendedStatistic === 'p99')).toBe(true);
      const deadLetterAlarms = alarms.filter(
        (a) =>
          a.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          a.Threshold === 0 &&
          a.ComparisonOperator === 'GreaterThanThreshold',
      );
      expect(deadLetterAlarms).toHaveLength(region.councils.length + 1);
      // A council whose system stops receiving: its oldest message ages past the stage's threshold.
      const waitingAlarms = alarms.filter((a) => a.MetricName === 'ApproximateAgeOfOldestMessage');
      expect(
        waitingAlarms.map((a) => [a.Dimensions, a.Threshold, a.ComparisonOperator, a.Statistic]).sort(),
      ).toEqual(
        region.councils
          .map((council) => [
            [{ Name: 'QueueName', Value: `${councilQueuePrefix(stage.name)}${council.code}` }],
            (stage.alarms?.councilQueueOldestMessageMinutes ?? 60) * 60,
            'GreaterThanThreshold',
            'Maximum',
          ])
          .sort(),
      );
      expect(alarms.some((a) => a.MetricName === 'Errors' && a.Namespace === 'AWS/Lambda')).toBe(true);
      expect(alarms.filter((a) => a.MetricName === 'Throttles')).toHaveLength(
        new Set(routes.map((r) => r.entry)).size + 2,
      );
      expect(alarms.some((a) => a.MetricName === 'IteratorAge')).toBe(true);
      // Any change to an audit item, and any notification no region can deliver: the dispatch function
      // counts each in its own namespace (embedded metric format), with Powertools' service dimension.
      const messaging = regionStacks(built, stage.name, region.region).messaging;
      const namespace = `ChildProtectionSharing/${stage.name}`;
      for (const metricName of ['AuditTrailChanges', 'UndeliverableNotifications']) {
        expect(alarms).toContainEqual(
          expect.objectContaining({
            MetricName: metricName,
            Namespace: namespace,
            Dimensions: [{ Name: 'service', Value: 'child-protection-sharing' }],
            Threshold: 0,
            ComparisonOperator: 'GreaterThanThreshold',
          }),
        );
      }
      template(messaging).resourceCountIs('AWS::Logs::MetricFilter', 0);
      template(messaging).hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ POWERTOOLS_METRICS_NAMESPACE: namespace }) },
      });
      template(monitoring).resourceCountIs('AWS::CloudWatch::Dashboard', 1);
      template(monitoring).hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
      template(monitoring).resourceCountIs('AWS::SNS::Subscription', region.alarmEmails.length);
    },
  );

  /** The authorizer's environment in the region's Api stack, as deployed. */
  const authorizerVariables = (stage: StageConfig, region: string): Record<string, string> => {
    const api = regionStacks(built, stage.name, region).api;
    const id = api.getLogicalId(api.authorizerFunction.node.defaultChild as never);
    return (
      (template(api).toJSON().Resources[id] as Resource).Properties.Environment as {
        Variables: Record<string, string>;
      }
    ).Variables;
  };

  it.each(regionCases)(
    '%s: alarms on IdentityServiceUnreachable in the namespace the authorizer is given, with the service dimension',
    (_label, { stage, region }) => {
      const monitoring = regionStacks(built, stage.name, region.region).monitoring;
      const [[topicId]] = resourcesOfType(monitoring, 'AWS::SNS::Topic') as [[string, Resource]];
      const namespace = authorizerVariables(stage, region.region).POWERTOOLS_METRICS_NAMESPACE;
      expect(namespace).toBe(`ChildProtectionSharing/${stage.name}`);
      const alarms = resourcesOfType(monitoring, 'AWS::CloudWatch::Alarm')
        .map(([, a]) => a.Properties as Record<string, any>)
        .filter((a) => a.MetricName === 'IdentityServiceUnreachable');
      expect(alarms).toEqual([
        expect.objectContaining({
          Namespace: namespace,
          Dimensions: [{ Name: 'service', Value: 'child-protection-sharing' }],
          Statistic: 'Sum',
          Period: 60,
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          TreatMissingData: 'notBreaching',
          AlarmActions: [{ Ref: topicId }],
          OKActions: [{ Ref: topicId }],
        }),
      ]);
    },
  );

  it('the authorizer, run with the environment a stage gives it, counts IdentityServiceUnreachable where the alarm watches', async () => {
    const [stage] = config as [StageConfig];
    const region = stage.primaryRegion;
    const variables = authorizerVariables(stage, region);
    const alarm = resourcesOfType(
      regionStacks(built, stage.name, region).monitoring,
      'AWS::CloudWatch::Alarm',
    )
      .map(([, a]) => a.Properties as Record<string, any>)
      .find((a) => a.MetricName === 'IdentityServiceUnreachable') as Record<string, any>;
    expect(alarm).toBeDefined();
    const saved = process.env.POWERTOOLS_METRICS_NAMESPACE;
    process.env.POWERTOOLS_METRICS_NAMESPACE = variables.POWERTOOLS_METRICS_NAMESPACE;
    try {
      // The very module and metric name the authorizer's failure path uses (functions/authorizer.ts).
      // One at a time: jest's ESM loader fails on concurrent imports of a shared dependency.
      const { metrics, METRIC_NAMES } = await import('../../functions/metrics');
      const { MetricUnit } = await import('@aws-lambda-powertools/metrics');
      metrics.addMetric(METRIC_NAMES.identityServiceUnreachable, MetricUnit.Count, 1);
      const emitted = metrics.serializeMetrics();
      metrics.clearMetrics();
      const [directive] = emitted._aws.CloudWatchMetrics;
      expect({
        namespace: directive?.Namespace,
        metrics: directive?.Metrics.map((metric) => metric.Name),
        dimensions: directive?.Dimensions.flat().map((name) => [
          name,
          (emitted as Record<string, unknown>)[name],
        ]),
      }).toEqual({
        namespace: alarm.Namespace,
        metrics: [alarm.MetricName],
        dimensions: (alarm.Dimensions as { Name: string; Value: string }[]).map((d) => [d.Name, d.Value]),
      });
    } finally {
      if (saved === undefined) delete process.env.POWERTOOLS_METRICS_NAMESPACE;
      else process.env.POWERTOOLS_METRICS_NAMESPACE = saved;
    }
  });
});

/** `{ "Fn::Join": ["", [...]] }` as a string, with each reference written `Ref(logicalId)`. */
function resolveJoin(value: unknown): string {
  if (typeof value === 'string') return value;
  const [separator, parts] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return parts
    .map((part) => (typeof part === 'string' ? part : `Ref(${(part as { Ref: string }).Ref})`))
    .join(separator);
}
