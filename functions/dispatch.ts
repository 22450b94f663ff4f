/**
 * Delivers council messages from the table's stream to council queues: an audit event that must notify
 * (a notifying lookup's access record, a supersession) carries its messages, each with its eventId, so a
 * redelivered stream record sends the same eventIds again. Also reports any change to an audit item,
 * the other kind of record the stream's event filter passes.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import middy from '@middy/core';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { CouncilMessage } from './core/council-messages';
import { METRIC_NAMES } from './metric-names';
import { checkCouncilMessage } from './notify/council-message-check';
import { CouncilQueues, CouncilWithoutQueue, sendToCouncil } from './notify/council-queues';
import { readDispatchSettings } from './notify/dispatch-settings';
import { logger } from './observability';
import { tableDefinition } from './store/table-definition';

// Checked when the function starts: a malformed setting fails the cold start, not each record. Neither
// this nor the message check loads zod, a tenth of this function's cold start (docs/adr/0059).
readDispatchSettings();
const queuesBySettings = new Map<string, CouncilQueues>();

/**
 * The council queues of the settings in force. Deployed they never change; the local runtime and the
 * tests may run services with other queue prefixes in one process, one after another.
 */
function councilQueues(): CouncilQueues {
  const { COUNCIL_HOMES, COUNCIL_QUEUE_URL_PREFIX, COUNCIL_QUEUE_NAME_PREFIX, AWS_REGION } = process.env;
  const key = JSON.stringify([
    COUNCIL_HOMES,
    COUNCIL_QUEUE_URL_PREFIX,
    COUNCIL_QUEUE_NAME_PREFIX,
    AWS_REGION,
  ]);
  let queues = queuesBySettings.get(key);
  if (!queues) {
    queues = new CouncilQueues(readDispatchSettings());
    queuesBySettings.set(key, queues);
  }
  return queues;
}
const processor = new BatchProcessor(EventType.DynamoDBStreams);

/**
 * Powertools Metrics, loaded when an invocation first counts something: only the alarms' rare events
 * are counted, so a delivery's cold start does not load it (ADR 0055).
 */
let metricsModule: Promise<typeof import('./metrics')> | undefined;
async function count(name: string): Promise<void> {
  metricsModule ??= import('./metrics');
  const { metrics } = await metricsModule;
  metrics.addMetric(name, 'Count', 1);
}
async function publishCounts(): Promise<void> {
  if (metricsModule) (await metricsModule).publishMetrics();
}
export const MALFORMED_MESSAGE = 'Audit event carries a malformed council message: not delivered';

/**
 * An audit item changed or removed (its stream record passes the event filter for that alone): logged
 * and counted for the AuditTrailChanged alarm, by its sort key (time and event id), never its subject's
 * NHS number.
 */
async function reportAuditChange(record: DynamoDBRecord): Promise<boolean> {
  const pk = record.dynamodb?.Keys?.PK?.S;
  if (record.eventName === 'INSERT' || !pk?.startsWith(tableDefinition.auditKeyPrefix)) return false;
  await count(METRIC_NAMES.auditTrailChanges);
  logger.error(tableDefinition.auditChangedMessage, {
    change: record.eventName,
    auditEventKey: record.dynamodb?.Keys?.SK?.S,
    streamEventId: record.eventID,
  });
  return true;
}

/** Logs a message no retry can mend, by the audit event's sort key (never its subject's NHS number). */
function undeliverable(reason: string, auditEventKey: string, details: Record<string, unknown>): void {
  logger.error(reason, { auditEventKey, ...details });
}

/** Sends one message to its council's queue, if this region is the council's home. */
async function deliver(message: CouncilMessage, auditEventKey: string): Promise<void> {
  let queueUrl: string | undefined;
  try {
    queueUrl = await councilQueues().queueUrl(message.councilCode);
  } catch (error) {
    if (!(error instanceof CouncilWithoutQueue)) throw error;
    // Retrying cannot help until the config gives the council a queue, and a failed record would hold
    // up every later notification of the shard. The audit event stays in the table to be delivered
    // again (npm run redrive, or the runbook); the metric raises the UndeliverableNotifications alarm.
    await count(METRIC_NAMES.undeliverableNotifications);
    undeliverable(tableDefinition.undeliverableMessage, auditEventKey, {
      type: message.type,
      eventId: message.eventId,
      councilCode: message.councilCode,
    });
    return;
  }
  if (!queueUrl) return; // homed in another region, whose dispatcher delivers it
  await sendToCouncil(queueUrl, message);
  logger.info('Council notified', {
    type: message.type,
    eventId: message.eventId,
    councilCode: message.councilCode,
  });
}

/**
 * Delivers the council messages an inserted audit event carries. Every well-formed message is tried;
 * if any send fails the record fails, and its retry sends them all again under the same eventIds. A
 * malformed message is logged and left: retrying cannot mend it, and would hold up every later record
 * of the shard.
 */
export async function deliverStreamRecord(record: DynamoDBRecord): Promise<void> {
  if (await reportAuditChange(record)) return;
  if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) return;
  const item = unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>);
  if (
    typeof item.PK !== 'string' ||
    !item.PK.startsWith(tableDefinition.auditKeyPrefix) ||
    item[tableDefinition.notifiesAttribute] !== true
  )
    return;
  const auditEventKey = String(item.SK);
  const carried: unknown[] = Array.isArray(item.messages) ? item.messages : [item.messages];
  const messages: CouncilMessage[] = [];
  // `messageIndex`, not `message`: the logger reserves `message` for the line's own text.
  if (carried.length === 0)
    undeliverable(MALFORMED_MESSAGE, auditEventKey, {
      messageIndex: null,
      issues: [{ path: 'messages', code: 'empty' }],
    });
  carried.forEach((candidate, index) => {
    const checked = checkCouncilMessage(candidate);
    if (checked.issues)
      undeliverable(MALFORMED_MESSAGE, auditEventKey, { messageIndex: index, issues: checked.issues });
    else messages.push(checked.message);
  });
  const outcomes = await Promise.allSettled(messages.map((message) => deliver(message, auditEventKey)));
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
}

export const handler = middy<DynamoDBStreamEvent>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use({ after: publishCounts, onError: publishCounts })
  .handler(async (event, context) =>
    processPartialResponse(event, deliverStreamRecord, processor, { context }),
  );
