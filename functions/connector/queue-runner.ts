/**
 * The connector's receive loop, for running it as a long-lived process (the CLI): long-polls the
 * council's queue in batches, hands each message on (connector.ts), deletes what was handed on (or
 * already had been), and puts each failure out of sight for a growing backoff. SQS itself moves a
 * message to the dead-letter queue once its receive count passes the queue's limit; the runner reads
 * that limit from the queue's redrive policy to say so when a message has had its last attempt.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { backoffSeconds, handOn, type Outcome } from './connector';
import type { DeliveredStore } from './delivered-store';
import type { Destination } from './destinations';

export interface QueueInfo {
  /** The receive count after which SQS moves a message to the dead-letter queue; undefined: none. */
  maxReceiveCount: number | undefined;
  deadLetterQueueName: string | undefined;
}

export async function describeQueue(sqs: SQSClient, queueUrl: string): Promise<QueueInfo> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }),
  );
  if (!Attributes.RedrivePolicy) return { maxReceiveCount: undefined, deadLetterQueueName: undefined };
  const policy = JSON.parse(Attributes.RedrivePolicy) as {
    maxReceiveCount?: number | string;
    deadLetterTargetArn?: string;
  };
  const limit = Number(policy.maxReceiveCount);
  return {
    maxReceiveCount: Number.isInteger(limit) && limit > 0 ? limit : undefined,
    deadLetterQueueName: policy.deadLetterTargetArn?.split(':').pop(),
  };
}

export type RunnerEvent =
  | { kind: 'started'; queueUrl: string; info: QueueInfo }
  | { kind: 'delivered'; eventId: string }
  | { kind: 'duplicate'; eventId: string }
  | {
      kind: 'failed';
      eventId: string | undefined;
      reason: string;
      receiveCount: number;
      retryInSeconds: number;
      /** The queue's limit was reached: SQS moves the message to the dead-letter queue next. */
      lastAttempt: boolean;
    }
  | { kind: 'receive-error'; reason: string; retryInSeconds: number }
  | { kind: 'stopped' };

export interface RunnerCounts {
  received: number;
  delivered: number;
  duplicates: number;
  failed: number;
  deadLettered: number;
}

export interface RunnerOptions {
  sqs: SQSClient;
  queueUrl: string;
  destination: Destination;
  store: DeliveredStore;
  /** Stops the loop after the batch in hand (an outstanding receive is waited for and handed on). */
  signal: AbortSignal;
  onEvent?: (event: RunnerEvent, counts: RunnerCounts) => void;
  /** Long-poll wait per receive, 0 to 20 (default 20). */
  waitSeconds?: number;
  /** Messages per receive, 1 to 10 (default 10). */
  batchSize?: number;
  /** Backoff of a failed message: base × 2^(receives − 1) seconds, at most max (defaults 2 and 900). */
  retryBaseSeconds?: number;
  retryMaxSeconds?: number;
}

/**
 * Hands on one batch. Copies of one eventId in the batch (SQS may deliver a message twice) wait for
 * the first: only one is handed on, and each copy is deleted once it was.
 */
async function handOnBatch(messages: Message[], store: DeliveredStore, destination: Destination) {
  const first = new Map<string, Promise<Outcome>>();
  return Promise.all(
    messages.map(async (message): Promise<Outcome> => {
      const body = message.Body ?? '';
      let key: string | undefined;
      try {
        key = (JSON.parse(body) as { eventId?: unknown })?.eventId as string | undefined;
      } catch {}
      const earlier = typeof key === 'string' ? first.get(key) : undefined;
      if (earlier) {
        const outcome = await earlier;
        return outcome.kind === 'failed' ? outcome : { kind: 'duplicate', eventId: outcome.eventId };
      }
      const outcome = handOn(body, store, destination);
      if (typeof key === 'string') first.set(key, outcome);
      return outcome;
    }),
  );
}

export async function runQueue(options: RunnerOptions): Promise<RunnerCounts> {
  const { sqs, queueUrl, signal } = options;
  const base = options.retryBaseSeconds ?? 2;
  const max = options.retryMaxSeconds ?? 900;
  const counts: RunnerCounts = { received: 0, delivered: 0, duplicates: 0, failed: 0, deadLettered: 0 };
  const emit = (event: RunnerEvent) => options.onEvent?.(event, counts);
  const info = await describeQueue(sqs, queueUrl);
  emit({ kind: 'started', queueUrl, info });
  let receiveFailures = 0;
  while (!signal.aborted) {
    let messages: Message[];
    try {
      const result = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: options.batchSize ?? 10,
          WaitTimeSeconds: options.waitSeconds ?? 20,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
        // Not aborted on stop: SQS hands a long poll's messages to it even after the client went away,
        // hiding them for the visibility timeout and counting a receive towards the dead-letter limit.
        // A stop waits for the poll to return and hands on what it brought.
      );
      messages = result.Messages ?? [];
      receiveFailures = 0;
    } catch (error) {
      if (signal.aborted) break;
      receiveFailures++;
      const retryInSeconds = backoffSeconds(receiveFailures, 1, 60);
      emit({ kind: 'receive-error', reason: (error as Error).message, retryInSeconds });
      await sleep(retryInSeconds * 1000, signal);
      continue;
    }
    if (messages.length === 0) continue;
    counts.received += messages.length;
    const outcomes = await handOnBatch(messages, options.store, options.destination);
    const done: Message[] = [];
    const retry: { message: Message; seconds: number }[] = [];
    outcomes.forEach((outcome, i) => {
      const message = messages[i] as Message;
      if (outcome.kind === 'delivered') {
        counts.delivered++;
        done.push(message);
        emit(outcome);
      } else if (outcome.kind === 'duplicate') {
        counts.duplicates++;
        done.push(message);
        emit(outcome);
      } else {
        const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
        const lastAttempt = info.maxReceiveCount !== undefined && receiveCount >= info.maxReceiveCount;
        const seconds = backoffSeconds(receiveCount, base, max);
        counts.failed++;
        if (lastAttempt) counts.deadLettered++;
        retry.push({ message, seconds });
        emit({ ...outcome, receiveCount, retryInSeconds: seconds, lastAttempt });
      }
    });
    // A delete or visibility change that does not happen only means SQS delivers the message again:
    // a delivered one is then recognised and deleted, a failed one retried sooner.
    if (done.length > 0) {
      await sqs
        .send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: done.map((message, i) => ({ Id: String(i), ReceiptHandle: message.ReceiptHandle })),
          }),
        )
        .catch(() => undefined);
    }
    if (retry.length > 0) {
      await sqs
        .send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queueUrl,
            Entries: retry.map(({ message, seconds }, i) => ({
              Id: String(i),
              ReceiptHandle: message.ReceiptHandle,
              VisibilityTimeout: seconds,
            })),
          }),
        )
        .catch(() => undefined);
    }
  }
  emit({ kind: 'stopped' });
  return counts;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
