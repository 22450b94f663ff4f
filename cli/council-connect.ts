/**
 * `npm run council:connect -- --council CODE (--webhook URL [--secret-env NAME] | --dir DIR) [--state FILE]`
 *
 * Keeps receiving a council's queue and hands each message on once per eventId: an HTTP POST to the
 * case system's web hook, or one JSON file per message in a drop directory. The work is done by
 * functions/connector/ (which a council can also run as a Lambda); this file reads the flags, finds
 * the queue, prints progress and stops cleanly on Ctrl-C. See docs/councils.md.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { JournalDeliveredStore } from '../functions/connector/delivered-store';
import {
  type Destination,
  DropDirectoryDestination,
  WebhookDestination,
} from '../functions/connector/destinations';
import { type RunnerCounts, type RunnerEvent, runQueue } from '../functions/connector/queue-runner';
import { councilQueueName } from '../functions/notify/queue-names';
import { localSqsClient } from '../local/aws-env';
import { readRuntimeInfo } from '../local/runtime-file';
import { type CliSpec, COUNCIL_FLAG, type Flag, runCli, UsageError, type Values } from './args';

const CLI = {
  usage:
    'npm run council:connect -- --council CODE (--webhook URL [--secret-env NAME] | --dir DIR) [--state FILE]',
  about:
    "Keeps receiving a council's queue and hands each message on once per eventId: as an HTTP POST to a\n" +
    'web hook (a 2xx answer is delivery), or as one JSON file per message written atomically into a drop\n' +
    'directory. A message is deleted from the queue only once delivered; a failed delivery is retried with\n' +
    "backoff until the queue's receive limit moves it to the dead-letter queue. Ctrl-C stops it after the\n" +
    'messages in hand. Locally it reads the queue of the running `npm start`; --queue-url reads a deployed one.',
  flags: {
    council: COUNCIL_FLAG,
    webhook: { type: 'string', value: 'URL', help: 'POST each message body to this http(s) URL' },
    'secret-env': {
      type: 'string',
      value: 'NAME',
      help: 'sign each POST: X-Signature: sha256=<hex HMAC-SHA256 of the body> keyed with $NAME',
    },
    dir: { type: 'string', value: 'DIR', help: 'write each message as <occurredAt>-<eventId>.json into DIR' },
    state: {
      type: 'string',
      value: 'FILE',
      help: 'journal of delivered eventIds (default .local/connector-CODE.journal)',
    },
    timeout: {
      type: 'string',
      value: 'SECONDS',
      help: 'how long one web hook call may take, 1 to 120 (default 10)',
    },
    'retry-base': {
      type: 'string',
      value: 'SECONDS',
      help: 'first retry delay, doubled each attempt, 0 to 3600 (default 2)',
    },
    'retry-max': { type: 'string', value: 'SECONDS', help: 'longest retry delay, up to 43200 (default 900)' },
    wait: { type: 'string', value: 'SECONDS', help: 'long-poll wait per receive, 1 to 20 (default 20)' },
    'queue-url': {
      type: 'string',
      value: 'URL',
      help: "a deployed queue's URL (AWS credentials and region from the environment)",
    },
    'runtime-file': {
      type: 'string',
      value: 'FILE',
      help: "the local service's runtime file (default .local/runtime.json)",
    },
  },
  examples: [
    'npm run council:connect -- --council E09000001 --dir /srv/case-system/inbox',
    'WEBHOOK_SECRET=s3cret npm run council:connect -- --council E09000001 --webhook http://127.0.0.1:8080/cp-is --secret-env WEBHOOK_SECRET',
  ],
  notes:
    'Exit codes: 0 stopped on Ctrl-C (or SIGTERM), 2 a mistake in the flags or a failure to start.\n' +
    'Delivery is once per eventId as far as the state file knows; a crash between a delivery and its record\n' +
    'hands that message on again, so receivers de-duplicate by eventId (X-Event-Id header). docs/councils.md.',
} satisfies CliSpec<Record<string, Flag>>;

function seconds(flag: string, value: string | undefined, fallback: number, min: number, max: number) {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < min || parsed > max) {
    throw new UsageError(
      `--${flag} must be a number of seconds from ${min} to ${max}, e.g. --${flag} ${fallback}`,
    );
  }
  return parsed;
}

async function destinationFrom(values: Values<typeof CLI.flags>): Promise<Destination> {
  if ((values.webhook === undefined) === (values.dir === undefined)) {
    throw new UsageError('Give exactly one of --webhook URL and --dir DIR');
  }
  if (values.dir !== undefined) {
    if (values['secret-env'] !== undefined)
      throw new UsageError('--secret-env signs web hook calls: use it with --webhook');
    const directory = path.resolve(values.dir);
    const found = await stat(directory).catch(() => undefined);
    if (!found?.isDirectory())
      throw new UsageError(`--dir ${values.dir} is not a directory: create it first`);
    const destination = new DropDirectoryDestination(directory);
    const removed = await destination.removeLeftovers();
    if (removed > 0)
      process.stdout.write(`Removed ${removed} unfinished temporary file(s) from ${directory}\n`);
    return destination;
  }
  let url: URL;
  try {
    url = new URL(values.webhook as string);
  } catch {
    throw new UsageError('--webhook must be an http or https URL, e.g. --webhook https://case.example/cp-is');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError('--webhook must be an http or https URL, e.g. --webhook https://case.example/cp-is');
  }
  let secret: string | undefined;
  const secretName = values['secret-env'];
  if (secretName !== undefined) {
    secret = process.env[secretName];
    if (!secret) {
      throw new UsageError(
        `--secret-env ${secretName}: the environment variable ${secretName} is not set or empty`,
      );
    }
  }
  const timeoutMs = seconds('timeout', values.timeout, 10, 1, 120) * 1000;
  return new WebhookDestination({ url: url.href, secret, timeoutMs });
}

async function queueFrom(
  values: Values<typeof CLI.flags>,
): Promise<{ sqs: SQSClient; queueUrl: string; local: boolean }> {
  if (values['queue-url']) {
    return { sqs: new SQSClient({}), queueUrl: values['queue-url'], local: false };
  }
  const runtime = await readRuntimeInfo(
    values['runtime-file'] ? path.resolve(values['runtime-file']) : undefined,
  );
  const sqs = localSqsClient(runtime.sqsEndpoint);
  try {
    const name = councilQueueName(runtime.queuePrefix, values.council);
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    return { sqs, queueUrl: QueueUrl as string, local: true };
  } catch {
    throw new Error(
      `Council ${values.council} has no queue: register it first with PUT /v1/councils/${values.council}`,
    );
  }
}

const describeCounts = (counts: RunnerCounts) =>
  `delivered ${counts.delivered}, already delivered ${counts.duplicates}, failed attempts ${counts.failed}, ` +
  `sent to the dead-letter queue ${counts.deadLettered}`;

async function main(values: Values<typeof CLI.flags>): Promise<number> {
  if (!/^[A-Z0-9]{3,10}$/.test(values.council)) {
    throw new UsageError(
      '--council must be an ODS code of 3 to 10 capital letters and digits, e.g. --council E09000001',
    );
  }
  const destination = await destinationFrom(values);
  const retryBaseSeconds = seconds('retry-base', values['retry-base'], 2, 0, 3600);
  const retryMaxSeconds = seconds('retry-max', values['retry-max'], 900, 0, 43_200);
  const waitSeconds = seconds('wait', values.wait, 20, 1, 20);
  const stateFile = path.resolve(values.state ?? path.join('.local', `connector-${values.council}.journal`));
  const { sqs, queueUrl, local } = await queueFrom(values);
  const store = await JournalDeliveredStore.open(stateFile);

  const out = (line: string) => process.stdout.write(`${line}\n`);
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) process.exit(130);
    out(
      `${signal}: stopping once the current receive returns (up to ${waitSeconds} s) and its messages are handed on (again to stop at once)`,
    );
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let lastCounts = '';
  const printCounts = (counts: RunnerCounts) => {
    const line = describeCounts(counts);
    if (line !== lastCounts) out(line);
    lastCounts = line;
  };
  let latest: RunnerCounts | undefined;
  const ticker = setInterval(() => latest && printCounts(latest), 1000);
  const redriveHint = local
    ? `npm run redrive -- --council ${values.council}`
    : 'an SQS dead-letter queue redrive (console, or aws sqs start-message-move-task)';
  const onEvent = (event: RunnerEvent, counts: RunnerCounts) => {
    latest = counts;
    switch (event.kind) {
      case 'started':
        out(
          `Council ${values.council}: receiving ${queueUrl} into ${destination.description}; ` +
            (event.info.maxReceiveCount
              ? `the queue's receive limit is ${event.info.maxReceiveCount} (dead-letter queue ${event.info.deadLetterQueueName}); `
              : 'the queue has no dead-letter queue; ') +
            `${store.size} delivered eventIds remembered in ${stateFile}. Ctrl-C stops.`,
        );
        break;
      case 'failed': {
        const id = event.eventId ?? '(unreadable message)';
        if (event.lastAttempt) {
          out(
            `Message ${id} failed its last attempt (${event.receiveCount} of the queue's limit): ${event.reason}. ` +
              `SQS moves it to the dead-letter queue; once the receiver is mended, bring it back with ${redriveHint}.`,
          );
        } else {
          out(
            `Message ${id} not delivered (attempt ${event.receiveCount}): ${event.reason}; retrying in ${event.retryInSeconds} s`,
          );
        }
        break;
      }
      case 'receive-error':
        out(`Could not receive from the queue (${event.reason}); trying again in ${event.retryInSeconds} s`);
        break;
      default:
        break;
    }
  };
  try {
    const counts = await runQueue({
      sqs,
      queueUrl,
      destination,
      store,
      signal: stop.signal,
      onEvent,
      waitSeconds,
      retryBaseSeconds,
      retryMaxSeconds,
    });
    out(`Stopped: ${describeCounts(counts)}`);
  } finally {
    clearInterval(ticker);
    destination.close?.();
    await store.close();
    sqs.destroy();
  }
  return 0;
}

runCli(CLI, main, { exitWhenDone: true });
