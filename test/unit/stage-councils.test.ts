/**
 * Deployed, a council must have a queue in some region of the stage: registration refuses any other
 * (403 before anything is read or written), and a message for a council no region serves is reported
 * (logged for the UndeliverableNotifications alarm; the audit event carrying it stays in the table) instead of
 * being passed off as another region's, without failing the record, which would hold up the shard.
 * SQS and DynamoDB are replaced with aws-sdk-client-mock: only which calls are made is under test.
 */
import { readFileSync } from 'node:fs';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { BatchGetCommand, DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { jest } from '@jest/globals';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';

process.env.AWS_REGION = 'eu-west-2';
process.env.TABLE_NAME = 'unit-stage-councils';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
// E09000001 is homed here, E08000003 in another region; E06000099 in none.
process.env.COUNCIL_HOMES = JSON.stringify({ 'eu-west-2': ['E09000001'], 'eu-west-1': ['E08000003'] });
process.env.COUNCIL_QUEUE_URL_PREFIX = 'https://sqs.eu-west-2.amazonaws.com/222222222222/cpis-prod-council-';
// Registration reads the stage's councils from their own list.
process.env.STAGE_COUNCIL_CODES = JSON.stringify(['E08000003', 'E09000001']);

const sqs = mockClient(SQSClient);
const dynamodb = mockClient(DynamoDBDocumentClient);
const context = { awsRequestId: 'r1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
const lookupSample = JSON.parse(readFileSync('events/apigw-lookup.json', 'utf8')) as APIGatewayProxyEvent;

beforeEach(() => {
  sqs.reset();
  dynamodb.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
  dynamodb.on(BatchGetCommand).resolves({ Responses: {} });
  dynamodb.on(TransactWriteCommand).resolves({});
});

describe('dispatch', () => {
  const record = (councilCode: string, sequence: string): DynamoDBStreamEvent['Records'][number] => {
    const eventId = `01JD7Q0Z8M3X4V5B6N7M8K9J${sequence.padStart(2, '0')}`;
    const message = {
      type: 'NhsNumberSuperseded',
      eventId,
      occurredAt: '2026-11-20T02:14:09.120Z',
      councilCode,
      oldNhsNumber: '9990000018',
      newNhsNumber: '9990000026',
    };
    const item = {
      PK: 'AUDIT#9990000026',
      SK: `EVENT#2026-11-20T02:14:09.120Z#${eventId}`,
      kind: 'AUDIT',
      notifies: true,
      messages: [message],
    };
    return {
      eventID: sequence,
      eventName: 'INSERT',
      eventSource: 'aws:dynamodb',
      dynamodb: {
        Keys: { PK: { S: item.PK }, SK: { S: item.SK } },
        NewImage: marshall(item) as never,
        SequenceNumber: sequence,
        StreamViewType: 'NEW_IMAGE',
      },
    };
  };

  it('sends to a council homed here, leaves one homed elsewhere, and reports one no region serves', async () => {
    const { handler } = await import('../../functions/dispatch');
    const { logger } = await import('../../functions/observability');
    const error = jest.spyOn(logger, 'error');
    const result = await handler(
      { Records: [record('E09000001', '1'), record('E08000003', '2'), record('E06000099', '3')] },
      context,
    );
    expect(result.batchItemFailures).toEqual([]);
    const sent = sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input.QueueUrl);
    expect(sent).toEqual(['https://sqs.eu-west-2.amazonaws.com/222222222222/cpis-prod-council-E09000001']);
    expect(error.mock.calls).toEqual([
      [
        'No region of this stage has a queue for the council: notification not delivered',
        expect.objectContaining({ councilCode: 'E06000099', eventId: expect.stringMatching(/03$/) }),
      ],
    ]);
    error.mockRestore();
  });
});

describe('council registration', () => {
  const register = async (councilCode: string) => {
    const { handler } = await import('../../functions/register-council');
    const event: APIGatewayProxyEvent = {
      ...lookupSample,
      resource: '/v1/councils/{councilCode}',
      path: `/v1/councils/${councilCode}`,
      httpMethod: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      multiValueHeaders: { 'Content-Type': ['application/json'] },
      pathParameters: { councilCode },
      body: JSON.stringify({ name: 'A council', emergencyDutyPhone: '0161 234 5678' }),
      requestContext: {
        ...lookupSample.requestContext,
        resourcePath: '/v1/councils/{councilCode}',
        httpMethod: 'PUT',
        authorizer: {
          ...(lookupSample.requestContext.authorizer as Record<string, unknown>),
          role: 'council',
          org: councilCode,
          activities: '[]',
          setting: '',
        },
      },
    };
    return (await handler(event, context)) as APIGatewayProxyResult;
  };

  it('refuses a council the stage gives no queue, saying what to do, and reads or writes nothing', async () => {
    const response = await register('E06000099');
    expect(response.statusCode).toBe(403);
    expect(JSON.parse(response.body).error).toEqual({
      code: 'FORBIDDEN',
      message: expect.stringContaining('add it to the stage configuration'),
    });
    expect(dynamodb.calls()).toHaveLength(0);
  });

  it('registers a council homed in this region or another', async () => {
    for (const code of ['E09000001', 'E08000003']) {
      expect((await register(code)).statusCode).toBe(200);
    }
    expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });
});
