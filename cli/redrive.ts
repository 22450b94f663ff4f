/**
 * `npm run redrive [-- --council E09000001] [--runtime-file FILE]`
 *
 * Without --council: re-delivers the stream records the poller gave up on (retries exhausted, e.g.
 * while SQS was down). Each message on the `dispatch-failures` queue names one audit event carrying
 * council messages by its sort key; the item is read back from the table and handed, as a stream
 * record, to the real dispatch function;
 * the message is deleted only once dispatch reports it delivered. A redelivered notification carries
 * its original eventId, so a consumer that de-duplicates by eventId sees it once.
 *
 * With --council CODE: moves the messages on that council's dead-letter queue (messages its system
 * failed to process five times) back to its queue.
 *
 * Prints one JSON line of counts; exits 1 when something could not be redriven (it stays queued).
 * The functions are exported for tests and scripts running next to the local service.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { type AttributeValue, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { councilDeadLetterQueueName, councilQueueName } from '../functions/notify/council-queues';
import { useLocalAws } from '../local/aws-env';
import { dispatchFailureQueueName, type FailureMessage } from '../local/dispatch-failures';
import { lambdaContext } from '../local/http-adapter';
import { readRuntimeInfo } from '../local/runtime-file';
import { type CliSpec, type Flag, runCli, UsageError, type Values } from './args';

export interface RedriveResult {
  /** Messages read from the failure queue. */
  received: number;
  /** Delivered to their council queue and deleted from the failure queue. */
  redelivered: number;
  /** Dispatch failed again: left on the queue. */
  failed: number;
  /** The item is no longer in the table: left on the queue. */
  missing: number;
  /** Not a failure message: left on the queue. */
  unreadable: number;
}

export interface RedriveOptions {
  tableName: string;
  queuePrefix: string;
  sqs?: SQSClient;
  dynamodb?: DynamoDBClient;
}

const localSqs = () => new SQSClient({ useQueueUrlAsEndpoint: false });

async function queueUrl(sqs: SQSClient, name: string): Promise<string | undefined> {
  try {
    return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  } catch (error) {
    if ((error as Error).name === 'QueueDoesNotExist' || /does not exist/i.test((error as Error).message)) {
      return undefined;
    }
    throw error;
  }
}

/** Every message on a queue, each handed to `handle` once per run; `false` leaves it on the queue. */
async function drainQueue(
  sqs: SQSClient,
  url: string,
  handle: (message: Message) => Promise<boolean>,
): Promise<void> {
  const kept: string[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        // Long enough that this run does not see a kept message again.
        VisibilityTimeout: 300,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) break;
    for (const message of Messages) {
      if (await handle(message)) {
        await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
      } else {
        kept.push(message.ReceiptHandle as string);
      }
    }
  }
  // What could not be redriven is visible again at once, for the next run.
  for (const receiptHandle of kept) {
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: url,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: 0,
      }),
    );
  }
}

function readFailureMessage(body: string | undefined): FailureMessage | undefined {
  try {
    const message = JSON.parse(body ?? '') as FailureMessage;
    const keys = message?.keys;
    const info = message?.DDBStreamBatchInfo;
    if (
      !keys ||
      typeof keys !== 'object' ||
      typeof keys.SK?.S !== 'string' ||
      typeof info?.startSequenceNumber !== 'string'
    ) {
      return undefined;
    }
    return message;
  } catch {
    return undefined;
  }
}

/**
 * The item with this sort key (an audit event's: `<range>#<time>#<event id>`, unique in the table),
 * found by a consistent Scan: the failure message does not hold its partition key, which holds an NHS
 * number. A local tool for local tables; deployed, the runbook reads the stream positions instead.
 */
async function itemBySortKey(
  dynamodb: DynamoDBClient,
  tableName: string,
  sortKey: AttributeValue,
): Promise<Record<string, AttributeValue> | undefined> {
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: 'SK = :sk',
        ExpressionAttributeValues: { ':sk': sortKey },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    if (page.Items?.[0]) return page.Items[0];
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return undefined;
}

/** Re-delivers what the stream poller gave up on, through the real dispatch function. */
export async function redriveDispatchFailures(options: RedriveOptions): Promise<RedriveResult> {
  const sqs = options.sqs ?? localSqs();
  const dynamodb = options.dynamodb ?? new DynamoDBClient({});
  const result: RedriveResult = { received: 0, redelivered: 0, failed: 0, missing: 0, unreadable: 0 };
  const url = await queueUrl(sqs, dispatchFailureQueueName(options.queuePrefix));
  if (!url) return result;
  const dispatch = await import('../functions/dispatch');
  await drainQueue(sqs, url, async (message) => {
    result.received++;
    const failure = readFailureMessage(message.Body);
    if (!failure) {
      result.unreadable++;
      return false;
    }
    const Item = await itemBySortKey(dynamodb, options.tableName, failure.keys.SK as AttributeValue);
    if (!Item) {
      result.missing++;
      return false;
    }
    const record: DynamoDBRecord = {
      eventID: `redrive-${failure.DDBStreamBatchInfo.startSequenceNumber}`,
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: process.env.AWS_REGION,
      eventSourceARN: failure.DDBStreamBatchInfo.streamArn,
      dynamodb: {
        Keys: { PK: Item.PK, SK: Item.SK } as never,
        NewImage: Item as never,
        SequenceNumber: failure.DDBStreamBatchInfo.startSequenceNumber,
        StreamViewType: 'NEW_IMAGE',
      },
    };
    let delivered: boolean;
    try {
      const response = (await dispatch.handler(
        { Records: [record] },
        lambdaContext('dispatch', `redrive-${randomUUID()}`),
      )) as DynamoDBBatchResponse;
      delivered = response.batchItemFailures.length === 0;
    } catch {
      delivered = false; // a whole-batch failure: the one record failed
    }
    if (delivered) result.redelivered++;
    else result.failed++;
    return delivered;
  });
  return result;
}

/** Moves a council's dead-lettered messages back to its queue, unchanged (same body and eventId). */
export async function redriveCouncilDeadLetters(options: {
  queuePrefix: string;
  councilCode: string;
  sqs?: SQSClient;
}): Promise<{ moved: number }> {
  const sqs = options.sqs ?? localSqs();
  const source = await queueUrl(sqs, councilDeadLetterQueueName(options.queuePrefix, options.councilCode));
  const target = await queueUrl(sqs, councilQueueName(options.queuePrefix, options.councilCode));
  if (!source || !target) {
    throw new Error(
      `Council ${options.councilCode} has no queues: register it first with PUT /v1/councils/${options.councilCode}`,
    );
  }
  let moved = 0;
  await drainQueue(sqs, source, async (message) => {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: target,
        MessageBody: message.Body,
        MessageAttributes: message.MessageAttributes,
      }),
    );
    moved++;
    return true;
  });
  return { moved };
}

const CLI = {
  usage: 'npm run --silent redrive -- [--council CODE] [--runtime-file FILE]',
  about:
    'Without --council: re-delivers, through the real dispatch function, the notifications the local\n' +
    'stream poller gave up on (its dispatch-failures queue). With --council: moves the messages on that\n' +
    "council's dead-letter queue back to its queue. Prints one JSON line of counts. Needs `npm start` running.",
  flags: {
    council: {
      type: 'string',
      value: 'CODE',
      help: "move this council's dead-lettered messages back to its queue",
    },
    'runtime-file': {
      type: 'string',
      value: 'FILE',
      help: "the local service's runtime file (default .local/runtime.json)",
    },
  },
  examples: ['npm run --silent redrive', 'npm run --silent redrive -- --council E09000001'],
  notes: 'Exit codes: 0 all redriven, 1 something could not be (it stays queued), 2 the redrive failed.',
} satisfies CliSpec<Record<string, Flag>>;

async function main(values: Values<typeof CLI.flags>): Promise<number> {
  if (values.council !== undefined && !/^[A-Z0-9]{3,10}$/.test(values.council)) {
    throw new UsageError(
      '--council must be an ODS code of 3 to 10 capital letters and digits, e.g. --council E09000001',
    );
  }
  const runtime = await readRuntimeInfo(values['runtime-file']);
  useLocalAws({ dynamodb: runtime.dynamodbEndpoint, sqs: runtime.sqsEndpoint });
  process.env.TABLE_NAME = runtime.tableName;
  process.env.COUNCIL_QUEUE_NAME_PREFIX = runtime.queuePrefix;
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  if (values.council) {
    const { moved } = await redriveCouncilDeadLetters({
      queuePrefix: runtime.queuePrefix,
      councilCode: values.council,
    });
    process.stdout.write(
      `${JSON.stringify({ mode: 'council-dead-letters', council: values.council, moved })}\n`,
    );
    return 0;
  }
  const result = await redriveDispatchFailures({
    tableName: runtime.tableName,
    queuePrefix: runtime.queuePrefix,
  });
  process.stdout.write(`${JSON.stringify({ mode: 'dispatch-failures', ...result })}\n`);
  return result.failed + result.missing + result.unreadable > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) runCli(CLI, main);
