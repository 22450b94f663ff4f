/**
 * The dispatch function when SendMessage or GetQueueUrl fail (injected with aws-sdk-client-mock):
 * exactly the records whose send failed are reported as batch item failures (so Lambda, or the local
 * poller, retries them and only them); malformed messages an audit event carries are dropped and logged,
 * never sent, never retried; records that are not inserts of audit events carrying messages are ignored.
 */

import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import { jest } from '@jest/globals';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { SAMPLE_MESSAGES } from '../../../testkit/council-messages';

process.env.AWS_REGION ??= 'eu-west-2';
process.env.TABLE_NAME = 'unit-faults';
process.env.COUNCIL_QUEUE_NAME_PREFIX = 'unit-';
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

const sqs = mockClient(SQSClient);
const context = {
  functionName: 'dispatch',
  awsRequestId: 'unit',
  getRemainingTimeInMillis: () => 30_000,
} as never;

let sequence = 0;
/** The stream record of a notifying lookup's access record (an audit event) carrying one message. */
function notifyingRecord(
  message: Record<string, unknown>,
  overrides: Partial<DynamoDBRecord> = {},
): DynamoDBRecord {
  sequence++;
  const item = {
    PK: 'AUDIT#9990000018',
    SK: `ACCESS#2026-11-20T02:14:09.120Z#${String(message.eventId)}`,
    kind: 'AUDIT',
    notifies: true,
    messages: [message],
  };
  return {
    eventID: String(sequence),
    eventName: 'INSERT',
    eventSource: 'aws:dynamodb',
    dynamodb: {
      Keys: { PK: { S: item.PK }, SK: { S: item.SK } },
      NewImage: marshall(item, { removeUndefinedValues: true }) as never,
      SequenceNumber: String(1000 + sequence),
      StreamViewType: 'NEW_IMAGE',
    },
    ...overrides,
  };
}

const accessed = (eventId: string, councilCode = 'E09000001') => ({
  ...SAMPLE_MESSAGES.accessed,
  eventId,
  councilCode,
});

const sentEventIds = () =>
  sqs
    .commandCalls(SendMessageCommand)
    .map((call) => JSON.parse(call.args[0].input.MessageBody as string).eventId);

let dispatch: typeof import('../../../functions/dispatch');
let logger: typeof import('../../../functions/observability').logger;

beforeAll(async () => {
  dispatch = await import('../../../functions/dispatch');
  ({ logger } = await import('../../../functions/observability'));
});

beforeEach(() => {
  sqs.reset();
  sqs.on(GetQueueUrlCommand).callsFake((input: { QueueName: string }) => ({
    QueueUrl: `https://sqs.eu-west-2.amazonaws.com/000000000000/${input.QueueName}`,
  }));
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
});

describe('dispatch with SendMessage failing', () => {
  it('reports exactly the records whose send failed, and sends every other one once', async () => {
    sqs.on(SendMessageCommand).callsFake((input: { MessageBody: string }) => {
      const { eventId } = JSON.parse(input.MessageBody);
      if (eventId === 'E2' || eventId === 'E4')
        throw Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable' });
      return { MessageId: eventId };
    });
    const records = ['E1', 'E2', 'E3', 'E4', 'E5'].map((id) => notifyingRecord(accessed(id)));
    const result = await dispatch.handler({ Records: records }, context);
    expect(result).toEqual({
      batchItemFailures: [
        { itemIdentifier: records[1]?.dynamodb?.SequenceNumber },
        { itemIdentifier: records[3]?.dynamodb?.SequenceNumber },
      ],
    });
    expect(sentEventIds().sort()).toEqual(['E1', 'E2', 'E3', 'E4', 'E5']);
    // What was sent is the message itself, with its eventId as a message attribute.
    const first = sqs
      .commandCalls(SendMessageCommand)
      .find((call) => call.args[0].input.MessageBody?.includes('"E1"'));
    expect(JSON.parse(first?.args[0].input.MessageBody as string)).toEqual(accessed('E1'));
    expect(first?.args[0].input.MessageAttributes?.eventId?.StringValue).toBe('E1');
  });

  it('fails the whole batch (for Lambda to retry it) when every send fails', async () => {
    sqs.on(SendMessageCommand).rejects(Object.assign(new Error('down'), { name: 'ServiceUnavailable' }));
    const records = ['F1', 'F2'].map((id) => notifyingRecord(accessed(id)));
    await expect(dispatch.handler({ Records: records }, context)).rejects.toMatchObject({
      name: 'FullBatchFailureError',
    });
  });

  it('reports the records of a council whose queue cannot be found', async () => {
    sqs
      .on(GetQueueUrlCommand, { QueueName: 'unit-E08000025' })
      .rejects(
        Object.assign(new Error('The specified queue does not exist.'), { name: 'QueueDoesNotExist' }),
      );
    const records = [
      notifyingRecord(accessed('G1', 'E08000025')),
      notifyingRecord(accessed('G2', 'E09000001')),
    ];
    const result = await dispatch.handler({ Records: records }, context);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: records[0]?.dynamodb?.SequenceNumber }]);
    expect(sentEventIds()).toEqual(['G2']);
  });
});

describe('dispatch with malformed or foreign records', () => {
  it('drops and logs malformed messages: never sent, never retried', async () => {
    const errors = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    try {
      const malformed = [
        { ...accessed('M1'), planTypes: [] },
        { ...accessed('M2'), type: 'ChildRecordDeleted' },
        { ...accessed('M3'), nhsNumber: '123' },
        { ...accessed('M4'), childName: 'Amelia Testchild' },
        { eventId: 'M5' },
      ];
      const records = [
        ...malformed.map((message) => notifyingRecord(message)),
        notifyingRecord(accessed('OK1')),
      ];
      const result = await dispatch.handler({ Records: records }, context);
      expect(result.batchItemFailures).toEqual([]);
      expect(sentEventIds()).toEqual(['OK1']);
      expect(errors).toHaveBeenCalledTimes(malformed.length);
      // The log names the item's key and what was wrong, never its content.
      for (const [, details] of errors.mock.calls) {
        expect(JSON.stringify(details)).not.toMatch(/9990000018|Grace Hopper|Amelia/);
      }
    } finally {
      errors.mockRestore();
    }
  });

  it('ignores records that are not inserts of audit events carrying messages', async () => {
    const records = [
      notifyingRecord(accessed('N1'), { eventName: 'MODIFY' }),
      notifyingRecord(accessed('N2'), { eventName: 'REMOVE' }),
      {
        ...notifyingRecord(accessed('N3')),
        dynamodb: { Keys: { PK: { S: 'AUDIT#9990000018' } }, SequenceNumber: '9' },
      },
      (() => {
        const record = notifyingRecord(accessed('N4'));
        (record.dynamodb?.NewImage as Record<string, unknown>).PK = { S: 'CHILD#9990000018' };
        return record;
      })(),
      (() => {
        const record = notifyingRecord(accessed('N5'));
        delete (record.dynamodb as { NewImage: Record<string, unknown> }).NewImage.notifies;
        return record;
      })(),
    ] as DynamoDBRecord[];
    const result = await dispatch.handler({ Records: records }, context);
    expect(result.batchItemFailures).toEqual([]);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });
});
