/**
 * Test data written fast, straight into the table: plan pointers in the item shape of
 * functions/store/items.ts, with parallel BatchWriteItem calls. The SDK and the store's modules are
 * imported on first use, once the caller has pointed the environment at its emulators.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { benchNhsNumber } from './nhs-numbers';

export interface PlanSeed {
  /** Children benchNhsNumber(start) .. benchNhsNumber(start + count - 1), one open plan each. */
  start: number;
  count: number;
  /** Child n's plan belongs to councils[n % councils.length]. */
  councils: readonly string[];
}

const PLAN_TYPES = ['CPP', 'LAC', 'CPP', 'UCPP'] as const;

type StoreItems = typeof import('../functions/store/items');

/** The plan pointer of seed n, exactly as functions/store/items.ts writes it (marshalled). */
function seedPlanItem(n: number, councilCode: string, table: StoreItems) {
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
  const table = await import('../functions/store/items');
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
