import { readFileSync } from 'node:fs';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { jest } from '@jest/globals';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';

const sample = JSON.parse(readFileSync('events/dispatch-outbox-record.json', 'utf8')) as DynamoDBStreamEvent;
const context = { awsRequestId: 'r1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
const sqs = mockClient(SQSClient);
let dispatch: (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse>;

beforeAll(async () => {
  process.env.COUNCIL_QUEUE_NAME_PREFIX = 'unit-';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  ({ handler: dispatch } = (await import('../../functions/dispatch')) as never);
});
beforeEach(() => {
  sqs.reset();
  sqs.on(GetQueueUrlCommand).resolves({ QueueUrl: 'http://queue/unit-E09000001' });
});

const record = sample.Records[0] as DynamoDBStreamEvent['Records'][number];
const withSequence = (sequence: string, message?: unknown) => {
  const copy = structuredClone(record);
  (copy.dynamodb as { SequenceNumber: string }).SequenceNumber = sequence;
  if (message !== undefined)
    (copy.dynamodb as { NewImage: Record<string, unknown> }).NewImage.message = message;
  return copy;
};

describe('dispatch fault paths', () => {
  it('reports exactly the records whose SendMessage failed, so only they are delivered again', async () => {
    sqs.on(SendMessageCommand).rejectsOnce(new Error('SQS unavailable')).resolves({ MessageId: 'm' });
    const result = await dispatch({ Records: [withSequence('1'), withSequence('2')] }, context);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: '1' }]);
    const sent = sqs
      .commandCalls(SendMessageCommand)
      .map((call) => JSON.parse(call.args[0].input.MessageBody as string));
    expect(sent.map((message) => message.eventId)).toEqual([
      '01JD7Q0Z8M3X4V5B6N7M8K9J0H',
      '01JD7Q0Z8M3X4V5B6N7M8K9J0H',
    ]);
  });

  it('drops a malformed outbox item without sending it or holding up the shard', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
    const result = await dispatch(
      { Records: [withSequence('3', { M: { type: { S: 'Nonsense' } } })] },
      context,
    );
    expect(result.batchItemFailures).toEqual([]);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('ignores records that are not outbox inserts', async () => {
    const modify = { ...withSequence('4'), eventName: 'MODIFY' as const };
    const result = await dispatch({ Records: [modify] }, context);
    expect(result.batchItemFailures).toEqual([]);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });
});

describe('audit items changed or removed (the stream filter passes them too)', () => {
  it('reports each by its sort key, never its NHS number, and sends nothing', async () => {
    const { logger } = await import('../../functions/observability');
    const error = jest.spyOn(logger, 'error');
    const keys = {
      PK: { S: 'AUDIT#9990000018' },
      SK: { S: 'EVENT#2026-11-20T02:14:09.120Z#01JD7Q0Z8M3X4V5B6N7M8K9J0H' },
    };
    const changed = (eventName: 'MODIFY' | 'REMOVE', sequence: string) => ({
      ...withSequence(sequence),
      eventName,
      dynamodb: { Keys: keys, SequenceNumber: sequence, StreamViewType: 'NEW_IMAGE' as const },
    });
    const result = await dispatch({ Records: [changed('MODIFY', '5'), changed('REMOVE', '6')] }, context);
    expect(result.batchItemFailures).toEqual([]);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
    expect(
      error.mock.calls.map(([message, fields]) => [message, (fields as { change: string }).change]),
    ).toEqual([
      ['An audit event was changed or removed', 'MODIFY'],
      ['An audit event was changed or removed', 'REMOVE'],
    ]);
    for (const [, fields] of error.mock.calls) {
      expect(fields).toMatchObject({ auditEventKey: keys.SK.S });
      expect(JSON.stringify(fields)).not.toContain('9990000018');
    }
    error.mockRestore();
  });
});

describe('message bodies SQS accepts', () => {
  it('escapes characters SQS refuses, so the council parses exactly the same message', async () => {
    const { sqsSafeJson } = await import('../../functions/notify/council-queues');
    const message = { userName: 'Dr \uFFFE Ada 𐀀', setting: 'a\u0001b' };
    const body = sqsSafeJson(message);
    expect(body).not.toMatch(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]/);
    expect(JSON.parse(body)).toEqual(message);
  });
});
