/** TransactWriteItems with retries for transient cancellations, and the reasons DynamoDB gives. */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { WriteConflict } from '../core/errors';
import type { StoreContext } from './context';
import { backoff } from './pool';

export type TransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>[number];

/** DynamoDB's limit of items in one transaction. */
export const MAX_TRANSACTION_ITEMS = 100;
const TRANSACTION_ATTEMPTS = 5;

/**
 * Sends one transaction, tried again (with jittered backoff) when DynamoDB cancels it for a conflict
 * with another transaction in flight or throttling; condition failures are the caller's to handle.
 */
export async function sendTransaction(store: StoreContext, items: TransactItem[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await store.client.send(new TransactWriteCommand({ TransactItems: items }));
      return;
    } catch (error) {
      const reasons = cancellationReasons(error) ?? [];
      const transient =
        (error as Error).name === 'TransactionInProgressException' ||
        (reasons.length > 0 &&
          reasons.some(
            (reason) => reason.Code === 'TransactionConflict' || reason.Code === 'ThrottlingError',
          ) &&
          !reasons.some((reason) => reason.Code === 'ConditionalCheckFailed'));
      if (!transient || attempt >= TRANSACTION_ATTEMPTS) throw error;
      await backoff(attempt);
    }
  }
}

/**
 * Why DynamoDB cancelled a transaction, item by item. The document client leaves the items of an
 * error in DynamoDB's attribute-value form, so they are unmarshalled here.
 */
export function cancellationReasons(
  error: unknown,
): { Code?: string; Item?: Record<string, unknown> }[] | undefined {
  if ((error as Error).name !== 'TransactionCanceledException') return undefined;
  const reasons = (
    error as { CancellationReasons?: { Code?: string; Item?: Record<string, AttributeValue> }[] }
  ).CancellationReasons;
  return reasons?.map(({ Code, Item }) => ({ Code, ...(Item ? { Item: unmarshall(Item) } : {}) }));
}

/**
 * A transaction whose first item carries the condition that matters: its failure is a WriteConflict
 * (NOT_FOUND for a Delete, VERSION otherwise).
 */
export async function transact(store: StoreContext, items: TransactItem[]): Promise<void> {
  try {
    await sendTransaction(store, items);
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (reasons?.[0]?.Code === 'ConditionalCheckFailed')
      throw new WriteConflict(items[0]?.Delete ? 'NOT_FOUND' : 'VERSION');
    throw error;
  }
}
