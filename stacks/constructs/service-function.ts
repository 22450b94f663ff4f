/**
 * Every Lambda function of the service: one handler file under functions/, Node 24 on arm64, minified
 * ESM bundle with the AWS SDK and a source map file beside it, an encrypted log group with retention,
 * active tracing, reserved concurrency, its own role, and grant helpers that add only what a function
 * uses.
 */
import { fileURLToPath } from 'node:url';
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, type EnvironmentOptions, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import {
  type BundlingOptions,
  LogLevel,
  NodejsFunction,
  OutputFormat,
  SourceMapMode,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { FunctionSpec } from '../../functions/catalog';
import { councilDeadLetterQueueName, councilQueueName } from '../../functions/notify/queue-names';
import { BUNDLE_ALIASES } from './lambda-bundling';
import { acknowledge } from './nag';
import type { ServiceTable } from './service-table';
import {
  AUDIT_IMMUTABLE_ACTIONS,
  AUDIT_KEYS_ONLY_CONDITION,
  AUDIT_LEADING_KEYS_CONDITION,
  READ_ACTIONS,
  REFUSAL_KEYS_ONLY_CONDITION,
  type TableAccess,
} from './table-access';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const path = (relative: string) => `${REPO_ROOT}${relative}`;

/** Set by the local runtime only: a deployed function must never be pointed at the local identity provider. */
export const LOCAL_ONLY_ENVIRONMENT = ['LOCAL_IDENTITY_ORIGIN'] as const;

/** Lets the ESM bundle load CommonJS dependencies that call require(). */
const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/**
 * How every function is bundled: one minified ESM file with the SDK, its source map beside it (not
 * loaded at run time, docs/adr/0002), and the aliases of lambda-bundling.ts (docs/adr/0050).
 */
export const LAMBDA_BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node24',
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  bundleAwsSDK: true,
  minify: true,
  sourceMap: true,
  sourceMapMode: SourceMapMode.DEFAULT,
  sourcesContent: false,
  tsconfig: path('tsconfig.json'),
  logLevel: LogLevel.WARNING,
  // esbuild runs in the project root, against which it resolves the aliases' relative paths.
  esbuildArgs: { '--alias': Object.entries(BUNDLE_ALIASES).map(([name, file]) => `${name}=${file}`) },
} satisfies BundlingOptions;

/** A catalogue entry's handler, description, memory and timeout, as ServiceFunction takes them. */
export function functionSizing(spec: FunctionSpec) {
  return {
    entry: spec.entry,
    description: spec.description,
    ...(spec.memorySize ? { memorySize: spec.memorySize } : {}),
    ...(spec.timeoutSeconds ? { timeout: Duration.seconds(spec.timeoutSeconds) } : {}),
  };
}

export interface ServiceFunctionProps {
  /** Handler file functions/<entry>.ts, exporting `handler`. */
  entry: string;
  description: string;
  reservedConcurrency: number;
  logsKey: IKey;
  logRetention: RetentionDays;
  timeout?: Duration;
  memorySize?: number;
  environment?: Record<string, string>;
}

const TRACING_WILDCARD_REASON =
  'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions, so active tracing needs Resource "*".';

export class ServiceFunction extends NodejsFunction {
  readonly serviceRole: Role;
  readonly serviceLogGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    // No NODE_OPTIONS=--enable-source-maps: loading the map would slow every cold start (docs/adr/0002).
    // The .map file ships beside the bundle; stack traces in the logs are decoded offline with
    // `npm run decode-stack` (docs/deploy.md, section 8).
    const environment = { ...props.environment };
    for (const name of LOCAL_ONLY_ENVIRONMENT) {
      if (name in environment) throw new Error(`${name} is for local development and must never be deployed`);
    }
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention,
      encryptionKey: props.logsKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs functions/${props.entry}.ts`,
    });
    super(scope, id, {
      entry: path(`functions/${props.entry}.ts`),
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      reservedConcurrentExecutions: props.reservedConcurrency,
      logGroup,
      role,
      environment,
      projectRoot: REPO_ROOT,
      depsLockFilePath: path('package-lock.json'),
      bundling: LAMBDA_BUNDLING,
    });
    this.serviceRole = role;
    this.serviceLogGroup = logGroup;
    logGroup.grantWrite(role);

    // The audit trail is append-only: whatever else a role is granted, it can never change or
    // remove an item whose partition key is an audit key, in this table or any other.
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'AuditTrailIsAppendOnly',
        effect: Effect.DENY,
        actions: [...AUDIT_IMMUTABLE_ACTIONS],
        resources: ['*'],
        conditions: AUDIT_LEADING_KEYS_CONDITION,
      }),
    );

    acknowledge(role, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: TRACING_WILDCARD_REASON,
    });
    acknowledge(role, {
      id: 'HIPAA.Security-IAMNoInlinePolicy',
      reason:
        "The role's policy belongs to this one function and lists only what it uses; a managed policy would be a reusable object granting nothing narrower.",
    });
    acknowledge(
      this,
      {
        id: 'HIPAA.Security-LambdaInsideVPC',
        reason:
          "The function reaches only regional AWS APIs (DynamoDB, SQS, KMS, X-Ray, CloudWatch Logs) over TLS with IAM authorization and the identity providers' discovery, JWKS and UserInfo endpoints; it has no private network resources to reach, and a VPC would add NAT and endpoints without protecting any data path.",
      },
      {
        id: 'HIPAA.Security-LambdaDLQ',
        reason:
          'Invoked synchronously (API Gateway) or by a stream event source mapping that has its own on-failure destination; an asynchronous-invocation dead-letter queue would never receive anything.',
      },
    );
  }

  /** Refuses the local-only variables here too, whoever adds them. */
  override addEnvironment(key: string, value: string, options?: EnvironmentOptions): this {
    if ((LOCAL_ONLY_ENVIRONMENT as readonly string[]).includes(key)) {
      throw new Error(`${key} is for local development and must never be deployed`);
    }
    return super.addEnvironment(key, value, options);
  }

  /**
   * Sets TABLE_NAME and allows exactly the listed item actions on the table (and its indexes if asked);
   * with `writesAuditOnly`, the writes only on items whose partition key is an audit key.
   */
  bindTable(table: ServiceTable, access: TableAccess): this {
    this.addEnvironment('TABLE_NAME', table.tableName);
    const resources = [table.tableArn, ...(access.indexes ? table.indexArns : [])];
    const reads = access.actions.filter((action) => READ_ACTIONS.includes(action));
    const writes = access.actions.filter((action) => !READ_ACTIONS.includes(action));
    if (access.writesAuditOnly) {
      if (reads.length > 0) this.addToRolePolicy(new PolicyStatement({ actions: reads, resources }));
      if (writes.length > 0) {
        this.addToRolePolicy(
          new PolicyStatement({
            sid: 'WritesAuditItemsOnly',
            actions: writes,
            resources: [table.tableArn],
            conditions: AUDIT_KEYS_ONLY_CONDITION,
          }),
        );
      }
    } else {
      this.addToRolePolicy(new PolicyStatement({ actions: [...access.actions], resources }));
    }
    this.addToRolePolicy(
      new PolicyStatement({
        actions:
          writes.length > 0
            ? ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey']
            : ['kms:Decrypt', 'kms:DescribeKey'],
        resources: [table.keyArn],
      }),
    );
    return this;
  }

  /**
   * UpdateItem on coalesced-refusal items only (REFUSALS#<subject>): every API function records the
   * calls it refuses there, one item per caller and minute with a growing count.
   */
  grantRecordingRefusals(table: ServiceTable): this {
    this.addToRolePolicy(
      new PolicyStatement({
        sid: 'RecordsRefusals',
        actions: ['dynamodb:UpdateItem'],
        resources: [table.tableArn],
        conditions: REFUSAL_KEYS_ONLY_CONDITION,
      }),
    );
    return this;
  }

  /**
   * SendMessage on the council queues of this region, named `<namePrefix><code>`, and not on their
   * dead-letter queues (and the data key calls their KMS encryption needs). By name pattern: an ARN per
   * queue (about 85 characters) would outgrow IAM's 10,240 characters of role policy at about a hundred
   * councils, and a region may home all of England's.
   */
  grantSendToCouncilQueues(namePrefix: string, key: IKey): this {
    const stack = Stack.of(this);
    const queueArn = (name: string) =>
      stack.formatArn({ service: 'sqs', resource: name, arnFormat: ArnFormat.NO_RESOURCE_NAME });
    const councilQueues = queueArn(councilQueueName(namePrefix, '*'));
    this.addToRolePolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [councilQueues] }));
    this.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.DENY,
        actions: ['sqs:SendMessage'],
        resources: [queueArn(councilDeadLetterQueueName(namePrefix, '*'))],
      }),
    );
    this.addToRolePolicy(
      new PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [key.keyArn] }),
    );
    acknowledge(this.serviceRole, {
      id: `AwsSolutions-IAM5[Resource::${councilQueues}]`,
      reason:
        'The council queues of this region, by their name prefix (dead-letter queues denied): one ARN per queue would outgrow the role policy size limit.',
    });
    return this;
  }
}
