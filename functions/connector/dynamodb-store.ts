/**
 * Delivered eventIds in a DynamoDB table of the council's own (partition key `eventId`, a string;
 * time to live on `expiresAt`), for the connector run as a Lambda, whose instances share no disk.
 */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DEFAULT_RETENTION_MS, type DeliveredStore } from './delivered-store';

export class DynamoDbDeliveredStore implements DeliveredStore {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBClient = new DynamoDBClient({}),
    private readonly retentionMs: number = DEFAULT_RETENTION_MS,
  ) {}

  async has(eventId: string): Promise<boolean> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { eventId: { S: eventId } },
        ConsistentRead: true,
        ProjectionExpression: 'eventId',
      }),
    );
    return Item !== undefined;
  }

  async add(eventId: string): Promise<void> {
    const now = Date.now();
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            eventId: { S: eventId },
            deliveredAt: { S: new Date(now).toISOString() },
            expiresAt: { N: String(Math.ceil((now + this.retentionMs) / 1000)) },
          },
          ConditionExpression: 'attribute_not_exists(eventId)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async close(): Promise<void> {}
}
