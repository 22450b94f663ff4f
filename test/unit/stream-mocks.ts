/**
 * The local stream poller's AWS clients replaced with aws-sdk-client-mock, for unit tests of the
 * poller: a table whose stream has one shard, `shard-1`. Each test file stubs GetShardIterator and
 * GetRecords itself; the mocks are reset before every test.
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { mockClient } from 'aws-sdk-client-mock';

export function mockStreamClients() {
  process.env.AWS_REGION ??= 'eu-west-2';
  const dynamodb = mockClient(DynamoDBClient);
  const streams = mockClient(DynamoDBStreamsClient);
  beforeEach(() => {
    dynamodb.reset();
    streams.reset();
    dynamodb.on(DescribeTableCommand).resolves({ Table: { LatestStreamArn: 'arn:stream' } });
    streams.on(DescribeStreamCommand).resolves({ StreamDescription: { Shards: [{ ShardId: 'shard-1' }] } });
  });
  return { dynamodb, streams };
}

/** A stream record of an audit item's insert, as GetRecords returns it. */
export const streamRecord = (sequence: number) => ({
  eventName: 'INSERT' as const,
  dynamodb: { SequenceNumber: String(sequence), Keys: { PK: { S: `AUDIT#${sequence}` } } },
});
