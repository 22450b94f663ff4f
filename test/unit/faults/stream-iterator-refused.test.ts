/**
 * The local stream poller when the stream refuses its shard iterator (TrimmedDataAccessException or
 * ExpiredIteratorException, injected with aws-sdk-client-mock; DynamoDB Local trims this way when other
 * tables are written heavily): it takes a new iterator from the oldest record and carries on, delivering
 * every record once, in order, with none skipped and none repeated.
 */

import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { StreamPoller } from '../../../local/stream-poller';
import { mockStreamClients, streamRecord } from '../stream-mocks';

const { streams } = mockStreamClients();

beforeEach(() => {
  streams
    .on(GetShardIteratorCommand, { ShardIteratorType: 'TRIM_HORIZON' })
    .resolves({ ShardIterator: 'from-horizon' });
});

async function pollUntil(poller: StreamPoller, done: () => boolean): Promise<void> {
  for (let pass = 0; pass < 20 && !done(); pass++) await poller.pollOnce();
}

/** A poller that records the sequence numbers it delivers, started and stopped: polled by hand. */
async function recordingPoller(): Promise<{ poller: StreamPoller; delivered: string[] }> {
  const delivered: string[] = [];
  const poller = new StreamPoller('table', async (records: DynamoDBRecord[]) => {
    delivered.push(...records.map((r) => r.dynamodb?.SequenceNumber as string));
    return { failedSequenceNumbers: [] };
  });
  await poller.start();
  await poller.stop();
  return { poller, delivered };
}

it.each([
  ['trimmed', new TrimmedDataAccessException({ message: 'trimmed', $metadata: {} })],
  ['expired', new ExpiredIteratorException({ message: 'expired', $metadata: {} })],
])(
  'an iterator the stream refuses (%s) is renewed; every record is delivered exactly once',
  async (_, refusal) => {
    // First read: records 101 and 102. Then the next iterator is refused. The renewed iterator starts at
    // the oldest record the shard still holds (101), so 101 and 102 come again, with 103.
    streams
      .on(GetRecordsCommand, { ShardIterator: 'from-horizon' })
      .resolvesOnce({ Records: [streamRecord(101), streamRecord(102)], NextShardIterator: 'after-102' })
      .resolves({
        Records: [streamRecord(101), streamRecord(102), streamRecord(103)],
        NextShardIterator: 'after-103',
      });
    streams.on(GetRecordsCommand, { ShardIterator: 'after-102' }).rejects(refusal);
    streams
      .on(GetRecordsCommand, { ShardIterator: 'after-103' })
      .resolves({ Records: [], NextShardIterator: 'after-103' });

    const { poller, delivered } = await recordingPoller();
    await pollUntil(poller, () => delivered.length >= 3);

    expect(delivered).toEqual(['101', '102', '103']);
    expect(poller.stats().iteratorsRenewed).toBe(1);
    expect(
      streams.commandCalls(GetShardIteratorCommand).map((call) => call.args[0].input.ShardIteratorType),
    ).toEqual(['TRIM_HORIZON', 'TRIM_HORIZON']);
  },
);

it('any other GetRecords error is not swallowed', async () => {
  streams.on(GetRecordsCommand).rejects(new Error('connection refused'));
  const poller = new StreamPoller('table', async () => ({ failedSequenceNumbers: [] }));
  await poller.start();
  await poller.stop();
  await expect(poller.pollOnce()).rejects.toThrow('connection refused');
  expect(poller.stats().iteratorsRenewed).toBe(0);
});

it('when the oldest record cannot be read either (an empty trimmed shard), it reads on from the newest', async () => {
  const refusal = new TrimmedDataAccessException({ message: 'trimmed', $metadata: {} });
  streams
    .on(GetShardIteratorCommand, { ShardIteratorType: 'LATEST' })
    .resolves({ ShardIterator: 'from-latest' });
  streams.on(GetRecordsCommand, { ShardIterator: 'from-horizon' }).rejects(refusal);
  streams
    .on(GetRecordsCommand, { ShardIterator: 'from-latest' })
    .resolves({ Records: [streamRecord(201)], NextShardIterator: 'after-201' });
  streams
    .on(GetRecordsCommand, { ShardIterator: 'after-201' })
    .resolves({ Records: [], NextShardIterator: 'after-201' });

  const { poller, delivered } = await recordingPoller();
  await pollUntil(poller, () => delivered.length >= 1);

  expect(delivered).toEqual(['201']);
  expect(poller.stats().iteratorsRenewed).toBe(2);
  expect(
    streams.commandCalls(GetShardIteratorCommand).map((call) => call.args[0].input.ShardIteratorType),
  ).toEqual(['TRIM_HORIZON', 'TRIM_HORIZON', 'LATEST']);
});
