/**
 * Reads the table's stream from DynamoDB Local the way Lambda's event source mapping does: shard by
 * shard, in order, handing each batch to a callback and retrying from the first failed record.
 */

import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';

export interface BatchResult {
  /** Sequence numbers of records to deliver again (Lambda's batchItemFailures). */
  failedSequenceNumbers: string[];
}

interface ShardState {
  iterator?: string;
  lastSequence?: string;
  closed: boolean;
  retryAt: number;
  attempts: number;
}

export class StreamPoller {
  private readonly streams = new DynamoDBStreamsClient({});
  private readonly shards = new Map<string, ShardState>();
  private running = false;
  private loop?: Promise<void>;
  private streamArn?: string;
  private passesStarted = 0;
  private readonly idleWaiters: { afterPass: number; resolve: () => void }[] = [];

  constructor(
    private readonly tableName: string,
    private readonly onBatch: (records: DynamoDBRecord[]) => Promise<BatchResult>,
    private readonly options: { intervalMs?: number; onError?: (error: unknown) => void } = {},
  ) {}

  async start(): Promise<void> {
    const table = await new DynamoDBClient({}).send(new DescribeTableCommand({ TableName: this.tableName }));
    this.streamArn = table.Table?.LatestStreamArn;
    if (!this.streamArn) throw new Error(`Table ${this.tableName} has no stream`);
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    for (const waiter of this.idleWaiters.splice(0)) waiter.resolve();
  }

  /**
   * Resolves once a whole pass that began after this call found nothing to deliver: every record
   * written before the call has then been handed to the callback successfully.
   */
  drained(): Promise<void> {
    const afterPass = this.passesStarted;
    return new Promise((resolve) => this.idleWaiters.push({ afterPass, resolve }));
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const pass = ++this.passesStarted;
        const busy = await this.pollOnce();
        if (!busy) {
          for (const waiter of this.idleWaiters.filter((w) => w.afterPass < pass)) {
            this.idleWaiters.splice(this.idleWaiters.indexOf(waiter), 1);
            waiter.resolve();
          }
          await sleep(this.options.intervalMs ?? 50);
        }
      } catch (error) {
        this.options.onError?.(error);
        await sleep(500);
      }
    }
  }

  private async listShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const page = await this.streams.send(
        new DescribeStreamCommand({ StreamArn: this.streamArn, ExclusiveStartShardId: start }),
      );
      shards.push(...(page.StreamDescription?.Shards ?? []));
      start = page.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return shards;
  }

  /** One pass over every open shard; true when any records were read. */
  async pollOnce(): Promise<boolean> {
    let busy = false;
    for (const shard of await this.listShards()) {
      const id = shard.ShardId as string;
      let state = this.shards.get(id);
      if (!state) {
        state = { closed: false, retryAt: 0, attempts: 0 };
        this.shards.set(id, state);
      }
      if (state.closed) continue;
      if (Date.now() < state.retryAt) {
        busy = true; // records wait for a retry: not drained
        continue;
      }
      if (!state.iterator) state.iterator = await this.iterator(id, state.lastSequence);
      const page = await this.streams.send(
        new GetRecordsCommand({ ShardIterator: state.iterator, Limit: 100 }),
      );
      const records = page.Records ?? [];
      if (records.length > 0) {
        busy = true;
        const failed = await this.deliver(records);
        if (failed) {
          // Like Lambda: deliver again from the first failed record, after a growing pause.
          state.attempts++;
          state.retryAt = Date.now() + Math.min(5000, 100 * 2 ** state.attempts);
          state.iterator = await this.iterator(id, undefined, failed);
          continue;
        }
        state.attempts = 0;
        state.lastSequence = records[records.length - 1]?.dynamodb?.SequenceNumber;
      }
      state.iterator = page.NextShardIterator;
      if (!state.iterator) state.closed = true;
    }
    return busy;
  }

  private async iterator(shardId: string, after?: string, at?: string): Promise<string | undefined> {
    const result = await this.streams.send(
      new GetShardIteratorCommand({
        StreamArn: this.streamArn,
        ShardId: shardId,
        ShardIteratorType: at ? 'AT_SEQUENCE_NUMBER' : after ? 'AFTER_SEQUENCE_NUMBER' : 'TRIM_HORIZON',
        SequenceNumber: at ?? after,
      }),
    );
    return result.ShardIterator;
  }

  /** The first sequence number to deliver again, if any failed. */
  private async deliver(records: StreamRecord[]): Promise<string | undefined> {
    const result = await this.onBatch(
      records.map((record) => toLambdaRecord(record, this.streamArn as string)),
    );
    const failed = new Set(result.failedSequenceNumbers);
    return records.find((record) => failed.has(record.dynamodb?.SequenceNumber as string))?.dynamodb
      ?.SequenceNumber;
  }
}

function toLambdaRecord(record: StreamRecord, streamArn: string): DynamoDBRecord {
  return {
    eventID: record.eventID,
    eventName: record.eventName as DynamoDBRecord['eventName'],
    eventVersion: record.eventVersion,
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion,
    eventSourceARN: streamArn,
    dynamodb: {
      ApproximateCreationDateTime: record.dynamodb?.ApproximateCreationDateTime
        ? record.dynamodb.ApproximateCreationDateTime.getTime() / 1000
        : undefined,
      Keys: record.dynamodb?.Keys as never,
      NewImage: record.dynamodb?.NewImage as never,
      OldImage: record.dynamodb?.OldImage as never,
      SequenceNumber: record.dynamodb?.SequenceNumber,
      SizeBytes: record.dynamodb?.SizeBytes,
      StreamViewType: record.dynamodb?.StreamViewType as never,
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
