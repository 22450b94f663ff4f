/**
 * Council notifications in one region: a queue and dead-letter queue per council homed here, and the
 * dispatch function that reads this region's replica stream (inserts of audit events carrying council
 * messages; and changes to audit items, for the AuditTrailChanged alarm) and sends each message to its
 * council's queue. Councils homed elsewhere are skipped: their region delivers them.
 */
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { type IMetric, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { AccountPrincipal, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey, Key } from 'aws-cdk-lib/aws-kms';
import { FilterCriteria, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { catalog } from '../functions/catalog';
import { METRIC_NAMES, SERVICE_NAME } from '../functions/metric-names';
import { tableDefinition } from '../functions/store/table-definition';
import { councilHomes, type RegionConfig, type StageConfig } from './config';
import { CouncilQueue } from './constructs/council-queue';
import { logsKey, serviceKey } from './constructs/keys';
import { acknowledge } from './constructs/nag';
import { ReplicaStream } from './constructs/replica-stream';
import { functionSizing, ServiceFunction } from './constructs/service-function';
import { regionalTable } from './constructs/service-table';
import { councilQueuePrefix, metricsNamespace } from './naming';
import { logRetention } from './retention';

export interface MessagingStackProps extends StackProps {
  stage: StageConfig;
  regionConfig: RegionConfig;
  /** This region's table key (Data stack of the same region). */
  tableKey: IKey;
}

export class MessagingStack extends Stack {
  readonly councilQueues: CouncilQueue[];
  readonly queueKey: Key;
  readonly dispatch: ServiceFunction;
  /** Where the event source mapping records batches it gave up on (stream positions, not message bodies). */
  readonly dispatchFailures: Queue;
  /** Audit items changed or removed, counted from the dispatch function's log (the stream passes them). */
  readonly auditTrailChanges: IMetric;
  /** Notifications for a council no region of the stage has a queue for, from the same log. */
  readonly undeliverableNotifications: IMetric;

  constructor(scope: Construct, id: string, props: MessagingStackProps) {
    super(scope, id, {
      ...props,
      description: `Child protection sharing (${props.stage.name}): council queues and dispatch in ${props.regionConfig.region}`,
    });
    const { stage, regionConfig } = props;
    const retention = logRetention(stage);
    const keyForLogs = logsKey(
      this,
      'LogsKey',
      `Encrypts the ${stage.name} messaging logs in ${regionConfig.region}`,
    );

    this.queueKey = serviceKey(
      this,
      'QueueKey',
      `Encrypts the ${stage.name} council queues in ${regionConfig.region}`,
    );
    const namePrefix = councilQueuePrefix(stage.name);
    this.councilQueues = regionConfig.councils.map(
      (council) =>
        new CouncilQueue(this, `Council${council.code}`, { council, key: this.queueKey, namePrefix }),
    );
    // What each council's integrators need: their queue URLs (this prefix and their code; one output for
    // every council, as CloudFormation allows 200 a stack), and the key their role must decrypt with.
    const queueUrlPrefix = `https://sqs.${this.region}.${this.urlSuffix}/${this.account}/${namePrefix}`;
    new CfnOutput(this, 'CouncilQueueUrlPrefix', {
      description: `A council's queue is this followed by its code; its dead-letter queue adds -dlq (councils homed here: ${regionConfig.councils.length})`,
      value: queueUrlPrefix,
    });
    new CfnOutput(this, 'QueueKeyArn', {
      description: "Council consumers' roles need kms:Decrypt on this key",
      value: this.queueKey.keyArn,
    });
    const consumerAccounts = [...new Set(regionConfig.councils.map((council) => council.consumerAccountId))];
    if (consumerAccounts.length > 0) {
      // Councils' systems decrypt only through SQS, and the queue policies let each receive only its own queues.
      this.queueKey.addToResourcePolicy(
        new PolicyStatement({
          sid: 'CouncilConsumersDecryptThroughSqs',
          principals: consumerAccounts.map((account) => new AccountPrincipal(account)),
          actions: ['kms:Decrypt'],
          resources: ['*'],
          conditions: { StringEquals: { 'kms:ViaService': `sqs.${this.region}.amazonaws.com` } },
        }),
      );
    }

    this.dispatchFailures = new Queue(this, 'DispatchFailures', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(this.dispatchFailures, {
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the on-failure destination of the dispatch event source mapping; it holds stream positions for replay and needs no dead-letter queue of its own.',
    });

    const table = regionalTable(this, stage.name, props.tableKey.keyArn);
    const stream = new ReplicaStream(this, 'ReplicaStream', {
      tableName: table.tableName,
      tableArn: table.tableArn,
      generation: stage.tableGeneration,
      logsKey: keyForLogs,
      logRetention: retention,
    });
    const streamSource = TableV2.fromTableAttributes(this, 'Table', {
      tableArn: table.tableArn,
      tableStreamArn: stream.streamArn,
      encryptionKey: props.tableKey,
    });

    const namespace = metricsNamespace(stage.name);
    this.dispatch = new ServiceFunction(this, 'DispatchFunction', {
      ...functionSizing(catalog.dispatch),
      reservedConcurrency: stage.limits.reservedConcurrency.dispatch,
      logsKey: keyForLogs,
      logRetention: retention,
      // Every council of the stage by home region: the queues of those homed here are sent to, the others
      // are left to their region, and a message for a council no region serves is reported, not dropped.
      environment: {
        TABLE_NAME: table.tableName,
        COUNCIL_QUEUE_URL_PREFIX: queueUrlPrefix,
        COUNCIL_HOMES: councilHomes(stage),
        POWERTOOLS_METRICS_NAMESPACE: namespace,
      },
    });
    this.dispatch.grantSendToCouncilQueues(namePrefix, this.queueKey);
    // Counted by the function itself (Powertools Metrics, embedded metric format).
    const dispatchCount = (metricName: string) =>
      new Metric({
        namespace,
        metricName,
        dimensionsMap: { service: SERVICE_NAME },
        period: Duration.minutes(1),
        statistic: 'Sum',
      });
    this.auditTrailChanges = dispatchCount(METRIC_NAMES.auditTrailChanges);
    this.undeliverableNotifications = dispatchCount(METRIC_NAMES.undeliverableNotifications);
    this.dispatch.addEventSource(
      new DynamoEventSource(streamSource, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 25,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: 10,
        maxRecordAge: Duration.hours(24),
        parallelizationFactor: 1,
        onFailure: new SqsDlq(this.dispatchFailures),
        filters: [
          ...tableDefinition.dispatchFilterPatterns.map((pattern) =>
            FilterCriteria.filter(pattern as unknown as Record<string, unknown>),
          ),
        ],
      }),
    );
  }
}
