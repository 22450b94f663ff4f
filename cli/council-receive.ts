/**
 * `npm run --silent council:receive -- --council E09000001 [--wait 5] [--follow] [--json] [--dlq]`:
 * prints each message waiting on the council's queue as one JSON line (its body), deletes it once
 * printed, and exits when the queue stays empty for --wait seconds. --follow keeps listening until
 * Ctrl-C; --json prints an envelope per message (messageId, receive count, sent time, body);
 * --dlq reads the council's dead-letter queue instead.
 */
import { DeleteMessageCommand, GetQueueUrlCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { councilDeadLetterQueueName, councilQueueName } from '../functions/notify/council-queues';
import { localSqsClient } from '../local/aws-env';
import { readRuntimeInfo } from '../local/runtime-file';
import { type CliSpec, COUNCIL_FLAG, type Flag, runCli, UsageError } from './args';

const CLI = {
  usage: 'npm run --silent council:receive -- --council CODE [--wait SECONDS] [--follow] [--json] [--dlq]',
  about:
    "Prints each message waiting on a council's local queue as one JSON line (its body) and deletes it once\n" +
    'printed; exits when the queue stays empty for --wait seconds. Needs `npm start` running.',
  flags: {
    council: COUNCIL_FLAG,
    wait: {
      type: 'string',
      value: 'SECONDS',
      help: 'exit once the queue has been empty this long, 0 to 3600 (default 5)',
    },
    follow: { type: 'boolean', help: 'keep listening until Ctrl-C' },
    json: {
      type: 'boolean',
      help: 'print an envelope per message: messageId, receive count, sent time, body',
    },
    dlq: { type: 'boolean', help: "read the council's dead-letter queue instead" },
  },
  examples: ['npm run --silent council:receive -- --council E09000001 --wait 2'],
} satisfies CliSpec<Record<string, Flag>>;

runCli(CLI, async (values) => {
  if (!/^[A-Z0-9]{3,10}$/.test(values.council)) {
    throw new UsageError(
      `--council must be an ODS code of 3 to 10 capital letters and digits, e.g. --council E09000001`,
    );
  }
  const waitSeconds = values.wait === undefined ? 5 : Number(values.wait);
  if (!Number.isFinite(waitSeconds) || waitSeconds < 0 || waitSeconds > 3600) {
    throw new UsageError('--wait must be a number of seconds from 0 to 3600, e.g. --wait 5');
  }
  const runtime = await readRuntimeInfo();
  const sqs = localSqsClient(runtime.sqsEndpoint);
  let queueUrl: string | undefined;
  try {
    const queueName = (values.dlq ? councilDeadLetterQueueName : councilQueueName)(
      runtime.queuePrefix,
      values.council,
    );
    queueUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }))).QueueUrl;
  } catch {
    throw new Error(
      `Council ${values.council} has no queue: register it first with PUT /v1/councils/${values.council}`,
    );
  }
  let stopping = false;
  process.once('SIGINT', () => {
    stopping = true;
  });
  let idleSince = Date.now();
  while (!stopping && (values.follow || Date.now() - idleSince <= waitSeconds * 1000)) {
    const remaining = values.follow ? 20 : waitSeconds - (Date.now() - idleSince) / 1000;
    const result = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: Math.max(0, Math.min(values.follow ? 1 : 20, Math.floor(remaining))),
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
      }),
    );
    for (const message of result.Messages ?? []) {
      const line = values.json
        ? JSON.stringify({
            messageId: message.MessageId,
            receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
            sentAt: message.Attributes?.SentTimestamp
              ? new Date(Number(message.Attributes.SentTimestamp)).toISOString()
              : null,
            body: JSON.parse(message.Body ?? 'null'),
          })
        : message.Body;
      process.stdout.write(`${line}\n`);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
    if ((result.Messages ?? []).length > 0) idleSince = Date.now();
    else if (!values.follow && remaining <= 0) break;
  }
  return 0;
});
