/**
 * How the local stream poller paces its passes (as Lambda's event source mapping does): after a pass
 * that read less than a full batch it waits intervalMs before reading again, even though it delivered
 * records; after a full batch it reads on at once; stop() ends a wait at once. The streams client is
 * replaced with aws-sdk-client-mock, so the calls can be counted.
 */

import { GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { StreamPoller } from '../../local/stream-poller';
import { mockStreamClients, streamRecord } from './stream-mocks';

const { streams } = mockStreamClients();

/** Far longer than any test here runs: a poller that waits once cannot read again within a test. */
const LONG_PAUSE_MS = 600_000;

beforeEach(() => {
  streams.on(GetShardIteratorCommand).resolves({ ShardIterator: 'first' });
});

let running: StreamPoller | undefined;
afterEach(async () => {
  await running?.stop(); // ends its wait: a failed test would otherwise leave it waiting
  running = undefined;
});

async function startPoller(): Promise<{ poller: StreamPoller; delivered: string[] }> {
  const delivered: string[] = [];
  const poller = new StreamPoller(
    'table',
    async (records: DynamoDBRecord[]) => {
      delivered.push(...records.map((r) => r.dynamodb?.SequenceNumber as string));
      return { failedSequenceNumbers: [] };
    },
    { batchSize: 2, intervalMs: LONG_PAUSE_MS },
  );
  await poller.start();
  running = poller;
  return { poller, delivered };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}

it('after a pass that delivered less than a full batch, it waits before reading again', async () => {
  streams.on(GetRecordsCommand, { ShardIterator: 'first' }).resolves({
    Records: [streamRecord(101)],
    NextShardIterator: 'second',
  });
  streams.on(GetRecordsCommand, { ShardIterator: 'second' }).resolves({ Records: [streamRecord(102)] });
  const { delivered } = await startPoller();
  await until(() => delivered.length === 1);
  // Without the pause the next read follows at once (a DescribeStream and a GetRecords per record).
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(streams.commandCalls(GetRecordsCommand)).toHaveLength(1);
  expect(delivered).toEqual(['101']);
});

it('after a full batch it reads on at once, and delivers what follows', async () => {
  streams.on(GetRecordsCommand, { ShardIterator: 'first' }).resolves({
    Records: [streamRecord(101), streamRecord(102)],
    NextShardIterator: 'second',
  });
  streams
    .on(GetRecordsCommand, { ShardIterator: 'second' })
    .resolves({ Records: [streamRecord(103)], NextShardIterator: 'third' });
  const { delivered } = await startPoller();
  await until(() => delivered.length === 3);
  expect(delivered).toEqual(['101', '102', '103']);
  expect(streams.commandCalls(GetRecordsCommand)).toHaveLength(2);
});

it('stop() ends a wait between passes at once', async () => {
  streams.on(GetRecordsCommand).resolves({ Records: [], NextShardIterator: 'first' });
  const { poller } = await startPoller();
  await until(() => streams.commandCalls(GetRecordsCommand).length === 1);
  running = undefined;
  // Without the wake-up, stop() would wait out the pause and the test would time out.
  await poller.stop();
  expect(streams.commandCalls(GetRecordsCommand)).toHaveLength(1);
});
