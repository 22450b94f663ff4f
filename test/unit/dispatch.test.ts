import { readFileSync } from 'node:fs';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { jest } from '@jest/globals';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';

const sample = JSON.parse(readFileSync('events/dispatch-access-record.json', 'utf8')) as DynamoDBStreamEvent;
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
/** The sample's messages, as the stream carries them. */
const sampleMessages = (
  record.dynamodb as { NewImage: { messages: { L: { M: Record<string, { S: string }> }[] } } }
).NewImage.messages.L;
const withSequence = (sequence: string, messages?: unknown) => {
  const copy = structuredClone(record);
  (copy.dynamodb as { SequenceNumber: string }).SequenceNumber = sequence;
  if (messages !== undefined)
    (copy.dynamodb as { NewImage: Record<string, unknown> }).NewImage.messages = messages;
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

  it('sends the well-formed messages of an audit event and logs the rest, without holding up the shard', async () => {
    const { logger } = await import('../../functions/observability');
    const { MALFORMED_MESSAGE } = await import('../../functions/dispatch');
    const error = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
    const good = sampleMessages[0];
    const result = await dispatch(
      {
        Records: [
          withSequence('3', { L: [{ M: { type: { S: 'Nonsense' } } }, good] }),
          withSequence('3a', { L: [] }),
          withSequence('3b', { S: 'not a list' }),
        ],
      },
      context,
    );
    expect(result.batchItemFailures).toEqual([]);
    const sent = sqs
      .commandCalls(SendMessageCommand)
      .map((call) => JSON.parse(call.args[0].input.MessageBody as string));
    expect(sent.map((message) => message.eventId)).toEqual(['01JD7Q0Z8M3X4V5B6N7M8K9J0H']);
    // One line for each message that could not be sent: the first of record 3, the empty list, the string.
    const malformed = error.mock.calls.filter(([message]) => message === MALFORMED_MESSAGE);
    expect(malformed.map(([, fields]) => (fields as { messageIndex: unknown }).messageIndex)).toEqual([
      0,
      null,
      0,
    ]);
    for (const [, fields] of malformed) expect(JSON.stringify(fields)).not.toContain('9990000018');
    error.mockRestore();
  });

  it('ignores records that are not inserts of audit events carrying messages', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
    const notNotifying = withSequence('4b');
    (notNotifying.dynamodb as { NewImage: Record<string, unknown> }).NewImage.notifies = { BOOL: false };
    const plan = withSequence('4c');
    (plan.dynamodb as { NewImage: Record<string, unknown> }).NewImage.PK = { S: 'CHILD#9990000018' };
    const result = await dispatch({ Records: [notNotifying, plan] }, context);
    expect(result.batchItemFailures).toEqual([]);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
    // The same record as inserted is delivered: what kept it back above was the change.
    await dispatch({ Records: [withSequence('4d')] }, context);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(1);
  });

  it('sends every message an audit event carries; one failed send fails the record, whose retry sends them all', async () => {
    const [first] = sampleMessages;
    const second = structuredClone(first) as { M: Record<string, { S: string }> };
    second.M.eventId = { S: '01JD7Q0Z8M3X4V5B6N7M8K9J0J' };
    let refused = 0;
    sqs.on(SendMessageCommand).callsFake((input: { MessageBody: string }) => {
      if (JSON.parse(input.MessageBody).eventId.endsWith('0J') && refused++ === 0)
        throw new Error('SQS unavailable');
      return { MessageId: 'm' };
    });
    const twoMessages = withSequence('7', { L: [first, second] });
    const result = await dispatch({ Records: [twoMessages, withSequence('8')] }, context);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: '7' }]);
    const sentIds = () =>
      sqs
        .commandCalls(SendMessageCommand)
        .map((call) => JSON.parse(call.args[0].input.MessageBody as string).eventId);
    // Both of record 7's messages were tried, and record 8's one sent.
    expect(sentIds().sort()).toEqual([
      '01JD7Q0Z8M3X4V5B6N7M8K9J0H',
      '01JD7Q0Z8M3X4V5B6N7M8K9J0H',
      '01JD7Q0Z8M3X4V5B6N7M8K9J0J',
    ]);
    sqs.resetHistory();
    expect((await dispatch({ Records: [twoMessages] }, context)).batchItemFailures).toEqual([]);
    const sent = sentIds();
    expect(sent.sort()).toEqual(['01JD7Q0Z8M3X4V5B6N7M8K9J0H', '01JD7Q0Z8M3X4V5B6N7M8K9J0J']);
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
