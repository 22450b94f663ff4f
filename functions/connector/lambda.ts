/**
 * The council connector as a Lambda function in the council's own AWS account, triggered by its queue
 * (an SQS event source mapping with ReportBatchItemFailures): each message is handed on once per
 * eventId, remembered in a DynamoDB table; a failed one is reported as a batch item failure, so SQS
 * makes it visible again after the queue's visibility timeout and, past the receive limit, moves it
 * to the dead-letter queue. Settings, read with the first message:
 * - CONNECTOR_WEBHOOK_URL and CONNECTOR_WEBHOOK_SECRET (optional), or CONNECTOR_DROP_DIR (e.g. an EFS
 *   mount): where messages go;
 * - CONNECTOR_TABLE_NAME: the delivered-eventId table (partition key `eventId`, TTL on `expiresAt`);
 * - CONNECTOR_TIMEOUT_MS (default 10000): how long one web hook call may take.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSEvent, SQSHandler, SQSRecord } from 'aws-lambda';
import { handOn } from './connector';
import type { DeliveredStore } from './delivered-store';
import { type Destination, DropDirectoryDestination, WebhookDestination } from './destinations';
import { DynamoDbDeliveredStore } from './dynamodb-store';

export interface ConnectorDependencies {
  destination: Destination;
  store: DeliveredStore;
}

/** The destination and store the environment names; throws, naming the variable, when one is wrong. */
export function fromEnvironment(env: NodeJS.ProcessEnv = process.env): ConnectorDependencies {
  const { CONNECTOR_WEBHOOK_URL, CONNECTOR_WEBHOOK_SECRET, CONNECTOR_DROP_DIR, CONNECTOR_TABLE_NAME } = env;
  if (!CONNECTOR_TABLE_NAME) throw new Error('CONNECTOR_TABLE_NAME must name the delivered-eventId table');
  if (Boolean(CONNECTOR_WEBHOOK_URL) === Boolean(CONNECTOR_DROP_DIR)) {
    throw new Error('Set exactly one of CONNECTOR_WEBHOOK_URL and CONNECTOR_DROP_DIR');
  }
  const timeoutMs = Number(env.CONNECTOR_TIMEOUT_MS ?? 10_000);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
    throw new Error('CONNECTOR_TIMEOUT_MS must be a whole number of milliseconds');
  }
  const destination = CONNECTOR_WEBHOOK_URL
    ? new WebhookDestination({ url: CONNECTOR_WEBHOOK_URL, secret: CONNECTOR_WEBHOOK_SECRET, timeoutMs })
    : new DropDirectoryDestination(CONNECTOR_DROP_DIR as string);
  return { destination, store: new DynamoDbDeliveredStore(CONNECTOR_TABLE_NAME) };
}

/** A handler over the given destination and store (the tests give their own). */
export function createHandler(dependencies: () => ConnectorDependencies) {
  const processor = new BatchProcessor(EventType.SQS);
  let resolved: ConnectorDependencies | undefined;
  const handleRecord = async (record: SQSRecord): Promise<void> => {
    resolved ??= dependencies();
    const outcome = await handOn(record.body, resolved.store, resolved.destination);
    if (outcome.kind === 'failed') {
      throw new Error(`message ${outcome.eventId ?? '(no eventId)'} not delivered: ${outcome.reason}`);
    }
  };
  return (event: SQSEvent, context: Parameters<SQSHandler>[1]) =>
    processPartialResponse(event, handleRecord, processor, { context });
}

export const handler = createHandler(() => fromEnvironment());
