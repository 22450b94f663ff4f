/**
 * The local stream poller's on-failure destination and the messages it parks there, shared by the
 * local service (which sends them) and `npm run redrive` (which re-delivers them).
 */
import { randomUUID } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { FailedRecords } from './stream-poller';

/** The stream poller's on-failure destination (Lambda's `onFailure` SQS destination). */
export const dispatchFailureQueueName = (queuePrefix: string) => `${queuePrefix}dispatch-failures`;

/**
 * Lambda's on-failure record for a stream batch, one per record, plus `keys`: the sort key of the table
 * item whose stream record failed. The item itself stays in the table, so the message holds no personal
 * data.
 */
export interface FailureMessage {
  version: '1.0';
  timestamp: string;
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: 'RetryAttemptsExhausted';
    approximateInvokeCount: number;
  };
  responseContext: { statusCode: 200; executedVersion: '$LATEST' };
  DDBStreamBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord?: string;
    approximateArrivalOfLastRecord?: string;
    batchSize: 1;
    streamArn: string;
  };
  /** The item's sort key (its partition key holds an NHS number). */
  keys: { SK?: AttributeValue };
}

export function failureMessages(failure: FailedRecords): FailureMessage[] {
  return failure.records.map((record) => {
    const sequence = record.dynamodb?.SequenceNumber as string;
    const created = record.dynamodb?.ApproximateCreationDateTime;
    const arrival = created ? new Date(created * 1000).toISOString() : undefined;
    return {
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: {
        requestId: randomUUID(),
        functionArn: 'arn:aws:lambda:eu-west-2:000000000000:function:dispatch',
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: failure.attempts,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST' },
      DDBStreamBatchInfo: {
        shardId: failure.shardId,
        startSequenceNumber: sequence,
        endSequenceNumber: sequence,
        approximateArrivalOfFirstRecord: arrival,
        approximateArrivalOfLastRecord: arrival,
        batchSize: 1,
        streamArn: failure.streamArn,
      },
      // The sort key alone: an audit event's partition key holds its subject's NHS number.
      keys: record.dynamodb?.Keys?.SK ? { SK: record.dynamodb.Keys.SK as AttributeValue } : {},
    };
  });
}
