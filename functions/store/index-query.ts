import { QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { StoreContext } from './context';
import { GSI1 } from './keys';

/** Every item of one GSI1 partition, page by page (eventually consistent, as every index read is). */
export async function queryIndexPartition(
  store: StoreContext,
  partition: string,
  projection?: string,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page: QueryCommandOutput = await store.client.send(
      new QueryCommand({
        TableName: store.tableName,
        IndexName: GSI1,
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': partition },
        ProjectionExpression: projection,
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}
