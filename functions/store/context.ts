/**
 * What every repository is handed: the document client and the table's name (as Powertools'
 * DynamoDBPersistenceLayer takes them), so the handlers, the tests and the benchmarks share one code path.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface StoreContext {
  client: DynamoDBDocumentClient;
  tableName: string;
}

/** The document client every repository expects (undefined attributes left out of items). */
export function createDocumentClient(
  client: DynamoDBClient = new DynamoDBClient({}),
): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
