import { Duration } from 'aws-cdk-lib';
import { Metric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { AccountPrincipal, AnyPrincipal, Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Queue, QueueEncryption, QueuePolicy } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { councilDeadLetterQueueName, councilQueueName } from '../../functions/notify/queue-names';
import type { CouncilConfig } from '../config';

/** What a council's system may do on its own queues: receive and delete (and the calls a consumer needs). */
export const COUNCIL_CONSUMER_ACTIONS = [
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibility',
  'sqs:GetQueueAttributes',
  'sqs:GetQueueUrl',
] as const;

export interface CouncilQueueProps {
  council: CouncilConfig;
  key: IKey;
  /** The stage's queue name prefix (stacks/naming.ts councilQueuePrefix). */
  namePrefix: string;
}

/**
 * One council's notification queue and its dead-letter queue, named from the council's code, readable
 * only by the council's account, and reachable only over TLS. Three resources per council (the two
 * queues and one policy for both), so that a region can home every council in England within
 * CloudFormation's 500 resources a stack.
 */
export class CouncilQueue extends Construct {
  readonly council: CouncilConfig;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly queueName: string;
  readonly deadLetterQueueName: string;

  constructor(scope: Construct, id: string, props: CouncilQueueProps) {
    super(scope, id);
    const { council, key } = props;
    this.council = council;
    this.queueName = councilQueueName(props.namePrefix, council.code);
    this.deadLetterQueueName = councilDeadLetterQueueName(props.namePrefix, council.code);
    const common = {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: key,
      dataKeyReuse: Duration.minutes(5),
      // TLS is enforced by the one policy below: enforceSSL would give each queue a policy of its own.
      enforceSSL: false,
      retentionPeriod: Duration.days(14),
    };
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      ...common,
      queueName: this.deadLetterQueueName,
    });
    this.queue = new Queue(this, 'Queue', {
      ...common,
      queueName: this.queueName,
      // A message handed to the council's consumer stays hidden for six times its processing time.
      visibilityTimeout: Duration.seconds(6 * council.consumerTimeoutSeconds),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: council.maxReceiveCount },
    });
    const queues = [this.queue, this.deadLetterQueue];
    const policy = new QueuePolicy(this, 'Policy', { queues });
    policy.document.addStatements(
      new PolicyStatement({
        sid: 'TlsOnly',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['sqs:*'],
        resources: queues.map((queue) => queue.queueArn),
        conditions: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
      new PolicyStatement({
        sid: 'CouncilConsumerOnly',
        principals: [new AccountPrincipal(council.consumerAccountId)],
        actions: [...COUNCIL_CONSUMER_ACTIONS],
        resources: queues.map((queue) => queue.queueArn),
      }),
    );
  }

  /** Messages waiting in the council's queue (or its dead-letter queue), by the queue's known name. */
  metricMessagesVisible(options: MetricOptions & { deadLetters?: boolean } = {}): Metric {
    return this.queueMetric('ApproximateNumberOfMessagesVisible', options);
  }

  /** Age in seconds of the oldest message in the council's queue (or its dead-letter queue). */
  metricAgeOfOldestMessage(options: MetricOptions & { deadLetters?: boolean } = {}): Metric {
    return this.queueMetric('ApproximateAgeOfOldestMessage', options);
  }

  private queueMetric(metricName: string, options: MetricOptions & { deadLetters?: boolean }): Metric {
    const { deadLetters, ...metricOptions } = options;
    return new Metric({
      namespace: 'AWS/SQS',
      metricName,
      dimensionsMap: { QueueName: deadLetters ? this.deadLetterQueueName : this.queueName },
      ...metricOptions,
    });
  }
}
