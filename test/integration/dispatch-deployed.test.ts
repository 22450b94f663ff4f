/**
 * The dispatch function as deployed: it knows the stage's councils by home region (COUNCIL_HOMES) and
 * finds a queue by its name (COUNCIL_QUEUE_URL_PREFIX and the code), with no call to look it up. Run
 * against fauxqs, whose queue URLs stand in for SQS's: a council homed here gets its message, one homed
 * in another region is left to that region, and one no region serves is reported, none failing.
 */
import { randomBytes } from 'node:crypto';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { jest } from '@jest/globals';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { accessRecordInsert } from '../../bench/lib/stream-records';
import { receiveAllMessages, testNhsNumber } from './harness';

const prefix = `d${randomBytes(4).toString('hex')}-council-`;
const HERE = 'E09000001';
const ELSEWHERE = 'E08000003';
const NOWHERE = 'E06000099';
const context = { awsRequestId: 'r1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
let dispatch: (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse>;

beforeAll(async () => {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${prefix}${HERE}` }));
  // Deployed, the stacks set https://sqs.<region>.amazonaws.com/<account>/<prefix>.
  process.env.COUNCIL_QUEUE_URL_PREFIX = (QueueUrl as string).slice(0, -HERE.length);
  process.env.COUNCIL_HOMES = JSON.stringify({ 'eu-west-2': [HERE], 'eu-west-1': [ELSEWHERE] });
  process.env.AWS_REGION = 'eu-west-2';
  ({ handler: dispatch } = (await import('../../functions/dispatch')) as never);
});

it('delivers to the council homed here, leaves the one homed elsewhere, and reports the one no region serves', async () => {
  const { logger } = await import('../../functions/observability');
  const error = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
  const records = [HERE, ELSEWHERE, NOWHERE].map((councilCode, i) =>
    accessRecordInsert({
      councilCode,
      nhsNumber: testNhsNumber(9100 + i),
      eventId: `01JD7Q0Z8M3X4V5B6N7M8K9J${String(i).padStart(2, '0')}`,
      sequence: i + 1,
    }),
  );
  const result = await dispatch({ Records: records } as DynamoDBStreamEvent, context);
  expect(result.batchItemFailures).toEqual([]);

  const received = await receiveAllMessages(`${prefix}${HERE}`);
  expect(received.map((message) => [message.councilCode, message.eventId])).toEqual([
    [HERE, '01JD7Q0Z8M3X4V5B6N7M8K9J00'],
  ]);
  expect(error.mock.calls).toEqual([
    [
      'No region of this stage has a queue for the council: notification not delivered',
      expect.objectContaining({ councilCode: NOWHERE, eventId: '01JD7Q0Z8M3X4V5B6N7M8K9J02' }),
    ],
  ]);
  error.mockRestore();
});
