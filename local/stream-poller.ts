/**
 * Reads the table's stream from DynamoDB Local the way Lambda's event source mapping does: shard by
 * shard, in order, handing each batch to a callback; a batch that reports failures is retried from its
 * first failed record after an exponentially growing pause; a record that has failed
 * 1 + maxRetryAttempts times goes to the on-failure destination and is not delivered again. A
 * destination that cannot take it (SQS down) holds the shard: records wait, they are never dropped.
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

/** Records whose retries are exhausted, handed to the on-failure destination. */
export interface FailedRecords {
  shardId: string;
  streamArn: string;
  /** Records that failed 1 + maxRetryAttempts times, in stream order. */
  records: DynamoDBRecord[];
  /** Failed deliveries of each of them (1 + maxRetryAttempts, or more if the destination was down). */
  attempts: number;
}

/** A retry the poller scheduled, for observers (tests, reports). */
export interface RetryScheduled {
  shardId: string;
  /** Failed deliveries so far of the record the retry starts at. */
  attempt: number;
  delayMs: number;
  firstFailedSequenceNumber: string;
  failedCount: number;
}

export interface StreamPollerStats {
  /** Batches handed to the callback. */
  invocations: number;
  /** Invocations that reported at least one failed record. */
  failedInvocations: number;
  retriesScheduled: number;
  /** Records handed to the on-failure destination successfully. */
  sentToFailureDestination: number;
  /** Times the on-failure destination itself failed (the records then stayed on the stream). */
  failureDestinationErrors: number;
  /** Shard iterators renewed after the stream refused them (trimmed or expired). */
  iteratorsRenewed: number;
}

export interface StreamPollerOptions {
  /** Pause between passes (50 ms), skipped after a pass that read a full batch. */
  intervalMs?: number;
  onError?: (error: unknown) => void;
  /** Records per batch (GetRecords Limit). */
  batchSize?: number;
  /**
   * Retries of a failing batch before its failed records go to onFailure: Lambda's `retryAttempts`
   * (the deployed event source mapping uses 10). Without onFailure, retries never end.
   */
  maxRetryAttempts?: number;
  /** Pause before retry n: min(retryMaxMs, retryBaseMs * 2^(n-1)). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** The on-failure destination. If it throws, the batch stays on the stream and is tried again later. */
  onFailure?: (failure: FailedRecords) => Promise<void>;
  onRetry?: (retry: RetryScheduled) => void;
}

/** As the deployed event source mapping (stacks/messaging-stack.ts). */
export const DEFAULT_MAX_RETRY_ATTEMPTS = 10;
const DEFAULT_BATCH_SIZE = 100;
const DEFAULT_INTERVAL_MS = 50;
const DEFAULT_RETRY_BASE_MS = 100;
const DEFAULT_RETRY_MAX_MS = 5000;

interface ShardState {
  iterator?: string;
  /**
   * The stream refused the last iterator: take the next from the oldest record ('horizon'); if that is
   * refused too (DynamoDB Local, on an empty shard), from the newest ('latest'): nothing is left to read.
   */
  renewal?: 'horizon' | 'latest';
  lastSequence?: string;
  closed: boolean;
  retryAt: number;
  /** Failed deliveries so far of each record still being retried, by sequence number. */
  failures: Map<string, number>;
  /** Records handed to the on-failure destination that a retried batch still reaches: skipped. */
  givenUp: Set<string>;
}

const isIteratorRefused = (error: unknown) =>
  error instanceof Error &&
  (error.name === 'TrimmedDataAccessException' || error.name === 'ExpiredIteratorException');

const sequenceOf = (record: { dynamodb?: { SequenceNumber?: string } }) =>
  record.dynamodb?.SequenceNumber as string;

export class StreamPoller {
  private readonly streams = new DynamoDBStreamsClient({});
  private readonly shards = new Map<string, ShardState>();
  private running = false;
  private loop?: Promise<void>;
  private streamArn?: string;
  private wake?: () => void;
  private passesStarted = 0;
  private readonly idleWaiters: { afterPass: number; resolve: () => void }[] = [];
  private readonly counters: StreamPollerStats = {
    invocations: 0,
    failedInvocations: 0,
    retriesScheduled: 0,
    sentToFailureDestination: 0,
    failureDestinationErrors: 0,
    iteratorsRenewed: 0,
  };

  constructor(
    private readonly tableName: string,
    private readonly onBatch: (records: DynamoDBRecord[]) => Promise<BatchResult>,
    private readonly options: StreamPollerOptions = {},
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
    this.wake?.();
    await this.loop;
    for (const waiter of this.idleWaiters.splice(0)) waiter.resolve();
  }

  stats(): StreamPollerStats {
    return { ...this.counters };
  }

  /**
   * Resolves once a whole pass that began after this call found nothing to deliver: every record
   * written before the call has then been handed to the callback successfully (or, retries exhausted,
   * to the on-failure destination).
   */
  drained(): Promise<void> {
    const afterPass = this.passesStarted;
    return new Promise((resolve) => this.idleWaiters.push({ afterPass, resolve }));
  }

  /**
   * Passes, paced like Lambda's event source mapping, which polls each shard a few times a second and
   * reads on at once only while records are backed up. A pass that read a full batch starts the next at
   * once; any other pass (even one that delivered records) waits intervalMs first, so that a trickle of
   * records does not cost a DescribeStream and a GetRecords each in the process serving the API
   * (docs/adr/0007).
   */
  private async run(): Promise<void> {
    while (this.running) {
      try {
        const pass = ++this.passesStarted;
        const { busy, backlog } = await this.pass();
        if (!busy) {
          for (const waiter of this.idleWaiters.filter((w) => w.afterPass < pass)) {
            this.idleWaiters.splice(this.idleWaiters.indexOf(waiter), 1);
            waiter.resolve();
          }
        }
        if (!backlog) await this.pause(this.options.intervalMs ?? DEFAULT_INTERVAL_MS);
      } catch (error) {
        this.options.onError?.(error);
        await this.pause(500);
      }
    }
  }

  /** Waits between passes; stop() ends the wait at once. */
  private pause(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
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

  private backoff(attempt: number): number {
    const base = this.options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
    const max = this.options.retryMaxMs ?? DEFAULT_RETRY_MAX_MS;
    return Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  }

  /** One pass over every open shard; true when any records were read. */
  async pollOnce(): Promise<boolean> {
    return (await this.pass()).busy;
  }

  /**
   * One pass over every open shard. busy: records were read or wait for a retry (not drained);
   * backlog: a read filled its batch, or an iterator was renewed, so the next pass should not wait.
   */
  private async pass(): Promise<{ busy: boolean; backlog: boolean }> {
    let busy = false;
    let backlog = false;
    for (const shard of await this.listShards()) {
      const id = shard.ShardId as string;
      let state = this.shards.get(id);
      if (!state) {
        state = { closed: false, retryAt: 0, failures: new Map(), givenUp: new Set() };
        this.shards.set(id, state);
      }
      if (state.closed) continue;
      if (Date.now() < state.retryAt) {
        busy = true; // records wait for a retry: not drained
        continue;
      }
      if (!state.iterator) {
        state.iterator = await this.iterator(id, state.lastSequence, undefined, state.renewal);
        if (!state.iterator) {
          state.closed = true;
          continue;
        }
      }
      let page: Awaited<ReturnType<typeof this.getRecords>>;
      try {
        page = await this.getRecords(state.iterator);
      } catch (error) {
        if (!isIteratorRefused(error)) throw error;
        state.iterator = undefined;
        if (state.renewal === 'latest') {
          state.renewal = undefined;
          throw error; // reported; the next pass starts over after a pause
        }
        // Expired, or trimmed (DynamoDB Local also trims under load from other tables): read the shard
        // again from its oldest record; what was already delivered is skipped below.
        state.renewal = state.renewal === 'horizon' ? 'latest' : 'horizon';
        this.counters.iteratorsRenewed++;
        busy = true;
        backlog = true;
        continue;
      }
      if ((page.Records?.length ?? 0) >= this.batchSize) backlog = true;
      state.renewal = undefined;
      const delivered = state.lastSequence === undefined ? undefined : BigInt(state.lastSequence);
      const records = (page.Records ?? []).filter(
        (record) => delivered === undefined || BigInt(sequenceOf(record)) > delivered,
      );
      if (records.length > 0) {
        busy = true;
        const pending = records.filter((record) => !state.givenUp.has(sequenceOf(record)));
        const failed = pending.length > 0 ? await this.deliver(pending) : [];
        for (const record of failed) {
          state.failures.set(sequenceOf(record), (state.failures.get(sequenceOf(record)) ?? 0) + 1);
        }
        // A record that failed 1 + maxRetryAttempts times goes to the on-failure destination.
        const maxRetries = this.options.maxRetryAttempts ?? DEFAULT_MAX_RETRY_ATTEMPTS;
        const exhausted = this.options.onFailure
          ? failed.filter((record) => (state.failures.get(sequenceOf(record)) ?? 0) > maxRetries)
          : [];
        let destinationDown = false;
        if (exhausted.length > 0) {
          if (await this.sendToDestination(id, exhausted, state)) {
            for (const record of exhausted) state.givenUp.add(sequenceOf(record));
          } else {
            destinationDown = true; // SQS is down too: keep the records, try again after the longest pause
          }
        }
        const remaining = failed.filter((record) => !state.givenUp.has(sequenceOf(record)));
        const first = remaining[0];
        if (first) {
          // Like Lambda: records before the first failed one are done; deliver again from it, after a
          // growing pause.
          const index = records.findIndex((record) => sequenceOf(record) === sequenceOf(first));
          if (index > 0) state.lastSequence = sequenceOf(records[index - 1] as StreamRecord);
          for (const done of records.slice(0, index)) {
            state.failures.delete(sequenceOf(done));
            state.givenUp.delete(sequenceOf(done));
          }
          const attempt = state.failures.get(sequenceOf(first)) ?? 1;
          const delayMs = destinationDown
            ? (this.options.retryMaxMs ?? DEFAULT_RETRY_MAX_MS)
            : this.backoff(attempt);
          state.retryAt = Date.now() + delayMs;
          this.counters.retriesScheduled++;
          this.options.onRetry?.({
            shardId: id,
            attempt,
            delayMs,
            firstFailedSequenceNumber: sequenceOf(first),
            failedCount: remaining.length,
          });
          state.iterator = await this.iterator(id, undefined, sequenceOf(first));
          continue;
        }
        // Delivered, or given up on: move past the batch.
        for (const record of records) {
          state.failures.delete(sequenceOf(record));
          state.givenUp.delete(sequenceOf(record));
        }
        state.retryAt = 0;
        state.lastSequence = sequenceOf(records[records.length - 1] as StreamRecord);
      }
      state.iterator = page.NextShardIterator;
      if (!state.iterator) state.closed = true;
    }
    return { busy, backlog };
  }

  private async sendToDestination(shardId: string, failed: DynamoDBRecord[], state: ShardState) {
    try {
      await this.options.onFailure?.({
        shardId,
        streamArn: this.streamArn as string,
        records: failed,
        attempts: Math.min(...failed.map((record) => state.failures.get(sequenceOf(record)) ?? 0)),
      });
      this.counters.sentToFailureDestination += failed.length;
      return true;
    } catch (error) {
      this.counters.failureDestinationErrors++;
      this.options.onError?.(error);
      return false;
    }
  }

  private get batchSize(): number {
    return this.options.batchSize ?? DEFAULT_BATCH_SIZE;
  }

  private getRecords(iterator: string) {
    return this.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: this.batchSize }));
  }

  private async iterator(
    shardId: string,
    after?: string,
    at?: string,
    renewal?: 'horizon' | 'latest',
  ): Promise<string | undefined> {
    const type = at
      ? 'AT_SEQUENCE_NUMBER'
      : renewal === 'latest'
        ? 'LATEST'
        : after && !renewal
          ? 'AFTER_SEQUENCE_NUMBER'
          : 'TRIM_HORIZON';
    const result = await this.streams.send(
      new GetShardIteratorCommand({
        StreamArn: this.streamArn,
        ShardId: shardId,
        ShardIteratorType: type,
        SequenceNumber:
          type === 'AT_SEQUENCE_NUMBER' ? at : type === 'AFTER_SEQUENCE_NUMBER' ? after : undefined,
      }),
    );
    return result.ShardIterator;
  }

  /** The records to deliver again, in stream order (none when the batch succeeded). */
  private async deliver(records: StreamRecord[]): Promise<DynamoDBRecord[]> {
    const batch = records.map((record) => toLambdaRecord(record, this.streamArn as string));
    this.counters.invocations++;
    const result = await this.onBatch(batch);
    const failed = new Set(result.failedSequenceNumbers);
    const failedRecords = batch.filter((record) => failed.has(record.dynamodb?.SequenceNumber as string));
    if (failedRecords.length > 0) this.counters.failedInvocations++;
    return failedRecords;
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
