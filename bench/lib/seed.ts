/**
 * Benchmark data: councils registered through the API (which also creates their queues), and the table
 * switched around bulk writes. Plan pointers are seeded with seedPlans and raw items written with
 * batchWriteItems (testkit/seed.ts); children's NHS numbers come from SEED_RANGES (./nhs.ts).
 */

import { BENCH_COUNCIL, registerCouncil } from '../../testkit/councils';
import { longLivedToken } from '../../testkit/tokens';
import { councilClaims } from './callers';
import { setupApi } from './http';

/** Registers councils through the service's API, as a council system would. */
export async function registerCouncils(url: string, codes: readonly string[]): Promise<void> {
  const api = setupApi(url);
  for (const code of codes)
    await registerCouncil(api, code, BENCH_COUNCIL, { token: await longLivedToken(councilClaims(code)) });
}

/**
 * Runs `fill` with the table's stream switched off, then switches it on again: a million items are
 * written at the emulator's full speed instead of a third of it with a stream poller reading along.
 * A service already running on the table keeps polling the stream it started with, which is closed
 * by this, so it dispatches nothing written afterwards (fine where only lookups are measured).
 *
 * DynamoDB Local quirk found on the way: a reader that starts on an empty shard of a stream switched on
 * by UpdateTable fails with TrimmedDataAccessException once other tables have been written meanwhile.
 */
export async function withStreamOff(tableName: string, fill: () => Promise<void>): Promise<void> {
  const { DynamoDBClient, UpdateTableCommand } = await import('@aws-sdk/client-dynamodb');
  const dynamodb = new DynamoDBClient({});
  await dynamodb.send(
    new UpdateTableCommand({ TableName: tableName, StreamSpecification: { StreamEnabled: false } }),
  );
  try {
    await fill();
  } finally {
    await dynamodb.send(
      new UpdateTableCommand({
        TableName: tableName,
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
      }),
    );
    dynamodb.destroy();
  }
}

/** Deletes benchmark tables once measured, freeing DynamoDB Local's memory for the next measure. */
export async function dropTables(tableNames: readonly string[]): Promise<void> {
  const { DynamoDBClient, DeleteTableCommand } = await import('@aws-sdk/client-dynamodb');
  const dynamodb = new DynamoDBClient({});
  for (const TableName of tableNames) await dynamodb.send(new DeleteTableCommand({ TableName }));
  dynamodb.destroy();
}
