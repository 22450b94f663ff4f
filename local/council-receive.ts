/**
 * `npm run --silent council:receive -- --council E09000001 [--wait 5]`: prints each message waiting on
 * the council's queue as one JSON line, deletes it once printed, and exits when the queue stays
 * empty for --wait seconds.
 */
import { parseArgs } from 'node:util';
import {
  DeleteMessageCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { councilQueueName } from '../functions/notify/council-queues';
import { LOCAL_AWS_ENV } from './aws-env';
import { readRuntimeInfo } from './runtime-file';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { council: { type: 'string' }, wait: { type: 'string' } },
    strict: true,
  });
  if (!values.council || !/^[A-Z0-9]{3,10}$/.test(values.council)) {
    throw new Error('Usage: npm run --silent council:receive -- --council E09000001 [--wait 5]');
  }
  const waitSeconds = values.wait === undefined ? 5 : Number(values.wait);
  if (!Number.isFinite(waitSeconds) || waitSeconds < 0 || waitSeconds > 3600) {
    throw new Error('--wait must be a number of seconds from 0 to 3600');
  }
  const runtime = await readRuntimeInfo();
  const sqs = new SQSClient({
    endpoint: runtime.sqsEndpoint,
    region: LOCAL_AWS_ENV.AWS_REGION,
    credentials: {
      accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID,
      secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY,
    },
    useQueueUrlAsEndpoint: false,
  });
  let queueUrl: string | undefined;
  try {
    queueUrl = (
      await sqs.send(
        new GetQueueUrlCommand({ QueueName: councilQueueName(runtime.queuePrefix, values.council) }),
      )
    ).QueueUrl;
  } catch {
    throw new Error(
      `Council ${values.council} has no queue: register it first with PUT /v1/councils/${values.council}`,
    );
  }
  let idleSince = Date.now();
  while (Date.now() - idleSince <= waitSeconds * 1000) {
    const remaining = waitSeconds - (Date.now() - idleSince) / 1000;
    const result = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: Math.max(0, Math.min(20, Math.floor(remaining))),
      }),
    );
    for (const message of result.Messages ?? []) {
      process.stdout.write(`${message.Body}\n`);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
    if ((result.Messages ?? []).length > 0) idleSince = Date.now();
    else if (remaining <= 0) break;
  }
}

main().catch((error) => {
  console.error((error as Error).message);
  process.exit(2);
});
