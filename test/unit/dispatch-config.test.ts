/**
 * Deployed, the dispatch function learns each council's home region from COUNCIL_HOMES. A value it
 * cannot read fails the record with a message naming what to fix (the stream keeps the record, and
 * retries it until the failure destination's alarm fires): no notification is dropped or sent astray.
 */
import { readFileSync } from 'node:fs';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';

process.env.AWS_REGION = 'eu-west-2';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
// The list of the stage's councils, not what the function needs: their codes by home region.
process.env.COUNCIL_HOMES = JSON.stringify(['E09000001']);
process.env.COUNCIL_QUEUE_URL_PREFIX = 'https://sqs.eu-west-2.amazonaws.com/222222222222/cpis-prod-council-';

const sample = JSON.parse(readFileSync('events/dispatch-access-record.json', 'utf8')) as DynamoDBStreamEvent;
const context = { awsRequestId: 'r1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
const sqs = mockClient(SQSClient);

it('fails the record, naming COUNCIL_HOMES and its form, and sends nothing', async () => {
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
  const { deliverStreamRecord, handler } = await import('../../functions/dispatch');
  const record = sample.Records[0] as DynamoDBStreamEvent['Records'][number];
  await expect(deliverStreamRecord(record)).rejects.toThrow(
    /COUNCIL_HOMES \(a JSON object of council codes by region, e\.g\. \{"eu-west-2":\["E09000001"\]\}\)/,
  );
  // Every record of the batch failed: the whole invocation fails, and the stream gives it again.
  await expect(handler({ Records: [record] }, context)).rejects.toThrow('All records failed processing');
  expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
});
