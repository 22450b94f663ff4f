/**
 * Delivers outbox items from the table's stream to council queues. Each outbox item carries the
 * message with its eventId, so a redelivered stream record sends the same eventId again. Also reports
 * any change to an audit item, the other kind of record the stream's event filter passes.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import middy from '@middy/core';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { CouncilMessageSchema } from './core/schemas';
import { councilQueueUrl, sendToCouncil } from './notify/council-queues';
import { CouncilWithoutQueue } from './notify/stage-councils';
import { logger } from './observability';
import { OUTBOX_PREFIX } from './store/table';
import { tableDefinition } from './store/table-definition';

const processor = new BatchProcessor(EventType.DynamoDBStreams);

/**
 * An audit item changed or removed (its stream record passes the event filter for that alone): logged
 * for the AuditTrailChanged alarm, by its sort key (time and event id), never its subject's NHS number.
 */
function reportAuditChange(record: DynamoDBRecord): boolean {
  const pk = record.dynamodb?.Keys?.PK?.S;
  if (record.eventName === 'INSERT' || !pk?.startsWith(tableDefinition.auditKeyPrefix)) return false;
  logger.error(tableDefinition.auditChangedMessage, {
    change: record.eventName,
    auditEventKey: record.dynamodb?.Keys?.SK?.S,
    streamEventId: record.eventID,
  });
  return true;
}

export async function deliverOutboxRecord(record: DynamoDBRecord): Promise<void> {
  if (reportAuditChange(record)) return;
  if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) return;
  const item = unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>);
  if (typeof item.PK !== 'string' || !item.PK.startsWith(OUTBOX_PREFIX)) return;
  const parsed = CouncilMessageSchema.safeParse(item.message);
  if (!parsed.success) {
    // Retrying cannot mend a malformed item and would hold up every later record of the shard.
    logger.error('Outbox item is malformed and was not delivered', {
      outboxKey: item.PK,
      issues: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), code: issue.code })),
    });
    return;
  }
  const message = parsed.data;
  let queueUrl: string | undefined;
  try {
    queueUrl = await councilQueueUrl(message.councilCode);
  } catch (error) {
    if (!(error instanceof CouncilWithoutQueue)) throw error;
    // Retrying cannot help until the config gives the council a queue, and a failed record would hold
    // up every later notification of the shard. The outbox item stays in the table (7 days) to be
    // delivered again; the log line raises the UndeliverableNotifications alarm.
    logger.error(tableDefinition.undeliverableMessage, {
      type: message.type,
      eventId: message.eventId,
      councilCode: message.councilCode,
      outboxKey: item.PK,
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

export const handler = middy<DynamoDBStreamEvent>().handler(async (event, context) =>
  processPartialResponse(event, deliverOutboxRecord, processor, { context }),
);
