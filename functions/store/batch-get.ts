import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import type { StoreContext } from './context';
import type { ItemKey } from './keys';
import { backoff, runPool } from './pool';

const BATCH_GET_LIMIT = 100;
const BATCHES_IN_FLIGHT = 8;

/** Reads items by key in batches of 100 (a few at once), retrying keys DynamoDB leaves unprocessed. */
export async function batchGet(
  store: StoreContext,
  itemKeys: readonly ItemKey[],
  consistent = false,
): Promise<Record<string, unknown>[]> {
  const found: Record<string, unknown>[] = [];
  const tasks = [];
  for (let i = 0; i < itemKeys.length; i += BATCH_GET_LIMIT) {
    const chunk = itemKeys.slice(i, i + BATCH_GET_LIMIT);
    tasks.push(async () => {
      let request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead: boolean }> | undefined =
        {
          [store.tableName]: { Keys: chunk.map((key) => ({ ...key })), ConsistentRead: consistent },
        };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        if (attempt > 0) await backoff(attempt);
        const result = await store.client.send(new BatchGetCommand({ RequestItems: request }));
        found.push(...(result.Responses?.[store.tableName] ?? []));
        request = result.UnprocessedKeys as typeof request;
      }
    });
  }
  await runPool(tasks, BATCHES_IN_FLIGHT);
  return found;
}
