/**
 * Test data, written fast: council registration through the API (which also creates the council's
 * queues), and plan pointers straight into the table with parallel BatchWriteItem calls, in the item
 * shape of functions/store/table.ts.
 */

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { setupFetch } from './http';
import { benchNhsNumber } from './nhs';
import { councilClaims, signToken } from './tokens';

export const BENCH_COUNCIL = {
  name: 'Benchmark Borough Council',
  officeHoursPhone: '020 7946 0000',
  emergencyDutyPhone: '020 7946 0999',
};

/** Registers councils through the service's API, as a council system would. */
export async function registerCouncils(url: string, codes: readonly string[]): Promise<void> {
  for (const code of codes) {
    const response = await setupFetch(`${url}/v1/councils/${code}`, {
      method: 'PUT',
      headers: {
        Authorization: `Bearer ${await signToken(councilClaims(code))}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify(BENCH_COUNCIL),
    });
    if (response.status !== 200)
      throw new Error(`registering ${code}: ${response.status} ${await response.text()}`);
  }
}

export interface PlanSeed {
  /** Children benchNhsNumber(start) .. benchNhsNumber(start + count - 1), one open plan each. */
  start: number;
  count: number;
  /** Child n's plan belongs to councils[n % councils.length]. */
  councils: readonly string[];
}

const PLAN_TYPES = ['CPP', 'LAC', 'CPP', 'UCPP'] as const;

async function clients() {
  const { DynamoDBClient, BatchWriteItemCommand } = await import('@aws-sdk/client-dynamodb');
  const { keys } = await import('../../functions/store/table');
  return { dynamodb: new DynamoDBClient({ maxAttempts: 10 }), BatchWriteItemCommand, keys };
}

/** The plan pointer of seed n, as functions/store/table.ts writes it (pre-marshalled). */
function planItem(keys: Awaited<ReturnType<typeof clients>>['keys'], n: number, councilCode: string) {
  const nhsNumber = benchNhsNumber(n);
  const planType = PLAN_TYPES[n % PLAN_TYPES.length] as string;
  const item: Record<string, AttributeValue> = {
    PK: { S: keys.child(nhsNumber) },
    SK: { S: keys.plan(councilCode, planType) },
    kind: { S: 'PLAN' },
    nhsNumber: { S: nhsNumber },
    planType: { S: planType },
    councilCode: { S: councilCode },
    startDate: { S: '2025-01-01' },
    version: { N: '1' },
    updatedAt: { S: '2025-01-01T09:00:00.000Z' },
    GSI1PK: { S: keys.councilPlans(councilCode) },
    GSI1SK: { S: keys.councilPlan(nhsNumber, planType) },
  };
  return item;
}

/** Writes plan pointers with `parallel` BatchWriteItem calls in flight; returns items per second. */
export async function seedPlans(
  tableName: string,
  seed: PlanSeed,
  options: { parallel?: number; log?: (text: string) => void } = {},
): Promise<number> {
  const { dynamodb, BatchWriteItemCommand, keys } = await clients();
  const end = seed.start + seed.count;
  let next = seed.start;
  let written = 0;
  let lastLog = performance.now();
  const started = performance.now();
  const worker = async () => {
    while (next < end) {
      const from = next;
      next = Math.min(end, next + 25);
      const items = [];
      for (let n = from; n < next; n++) {
        items.push({
          PutRequest: { Item: planItem(keys, n, seed.councils[n % seed.councils.length] as string) },
        });
      }
      let request: Record<string, (typeof items)[number][]> | undefined = { [tableName]: items };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        if (attempt > 0)
          await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 20 * 2 ** attempt)));
        const result = await dynamodb.send(new BatchWriteItemCommand({ RequestItems: request }));
        request = result.UnprocessedItems as typeof request;
      }
      written += items.length;
      if (options.log && performance.now() - lastLog > 15_000) {
        lastLog = performance.now();
        options.log(
          `  seeded ${written.toLocaleString('en-GB')} / ${seed.count.toLocaleString('en-GB')} children`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: options.parallel ?? 8 }, worker));
  dynamodb.destroy();
  return seed.count / ((performance.now() - started) / 1000);
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
