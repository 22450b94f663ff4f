import { Duration } from 'aws-cdk-lib';
import { AccountPrincipal, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
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
}

/** One council's notification queue and its dead-letter queue, readable only by the council's account. */
export class CouncilQueue extends Construct {
  readonly council: CouncilConfig;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: CouncilQueueProps) {
    super(scope, id);
    const { council, key } = props;
    this.council = council;
    const common = {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: key,
      dataKeyReuse: Duration.minutes(5),
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    };
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', common);
    this.queue = new Queue(this, 'Queue', {
      ...common,
      // A message handed to the council's consumer stays hidden for six times its processing time.
      visibilityTimeout: Duration.seconds(6 * council.consumerTimeoutSeconds),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: council.maxReceiveCount },
    });
    for (const queue of [this.queue, this.deadLetterQueue]) {
      queue.addToResourcePolicy(
        new PolicyStatement({
          sid: 'CouncilConsumerOnly',
          principals: [new AccountPrincipal(council.consumerAccountId)],
          actions: [...COUNCIL_CONSUMER_ACTIONS],
          resources: [queue.queueArn],
        }),
      );
    }
  }
}
