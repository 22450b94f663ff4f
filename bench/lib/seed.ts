/**
 * Test data, written fast: council registration through the API (which also creates the council's
 * queues), and plan pointers straight into the table with parallel BatchWriteItem calls, in the item
 * shape of functions/store/items.ts.
 */

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
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

/** The plan pointer of seed n, exactly as functions/store/items.ts writes it (marshalled). */
function seedPlanItem(n: number, councilCode: string, table: typeof import('../../functions/store/items')) {
  const plan = {
    nhsNumber: benchNhsNumber(n),
    planType: PLAN_TYPES[n % PLAN_TYPES.length] as (typeof PLAN_TYPES)[number],
    councilCode,
    startDate: '2025-01-01',
    endDate: null,
    version: 1,
  };
  return marshall(table.planItem(plan, '2025-01-01T09:00:00.000Z'), { removeUndefinedValues: true });
}

/** Writes plan pointers with `parallel` BatchWriteItem calls in flight; returns items per second. */
export async function seedPlans(
  tableName: string,
  seed: PlanSeed,
  options: { parallel?: number; log?: (text: string) => void } = {},
): Promise<number> {
  const table = await import('../../functions/store/items');
  function* items() {
    for (let n = seed.start; n < seed.start + seed.count; n++)
      yield seedPlanItem(n, seed.councils[n % seed.councils.length] as string, table);
  }
  const seconds = await batchWriteItems(tableName, items(), {
    ...options,
    progress: (written) =>
      `  seeded ${written.toLocaleString('en-GB')} / ${seed.count.toLocaleString('en-GB')} children`,
  });
  return seed.count / seconds;
}

/**
 * Writes items with plain BatchWriteItem calls of 25, `parallel` in flight, retrying unprocessed items;
 * returns the seconds it took. The fastest way to put items into a table: the baseline of bulk writes.
 */
export async function batchWriteItems(
  tableName: string,
  items: Iterator<Record<string, AttributeValue>>,
  options: { parallel?: number; log?: (text: string) => void; progress?: (written: number) => string } = {},
): Promise<number> {
  const { DynamoDBClient, BatchWriteItemCommand } = await import('@aws-sdk/client-dynamodb');
  const dynamodb = new DynamoDBClient({ maxAttempts: 10 });
  let written = 0;
  let lastLog = performance.now();
  const started = performance.now();
  const take = () => {
    const chunk: { PutRequest: { Item: Record<string, AttributeValue> } }[] = [];
    while (chunk.length < 25) {
      const next = items.next();
      if (next.done) break;
      chunk.push({ PutRequest: { Item: next.value } });
    }
    return chunk;
  };
  const worker = async () => {
    for (let chunk = take(); chunk.length > 0; chunk = take()) {
      let request: Record<string, typeof chunk> | undefined = { [tableName]: chunk };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        if (attempt > 0)
          await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 20 * 2 ** attempt)));
        const result = await dynamodb.send(new BatchWriteItemCommand({ RequestItems: request }));
        request = result.UnprocessedItems as typeof request;
      }
      written += chunk.length;
      if (options.log && options.progress && performance.now() - lastLog > 15_000) {
        lastLog = performance.now();
        options.log(options.progress(written));
      }
    }
  };
  await Promise.all(Array.from({ length: options.parallel ?? 8 }, worker));
  dynamodb.destroy();
  return (performance.now() - started) / 1000;
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
