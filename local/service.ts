/**
 * The whole service on local emulators: the table, council queues, the HTTP adapter in front of the
 * real handlers, and the stream poller feeding the real dispatch function. Expects AWS endpoints and
 * credentials in the environment (see aws-env.ts) before it is imported.
 */
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { councilDeadLetterQueueName, councilQueueName } from '../functions/notify/council-queues';
import { tableDefinition } from '../functions/store/table-definition';
import { dispatchFailureQueueName, failureMessages } from './dispatch-failures';
import { cachedAuthorizer, createHttpAdapter, lambdaContext, type ProxyHandler } from './http-adapter';
import { localIssuers } from './identity-provider';
import { DEFAULT_RATE_LIMITS, RateLimiter, type RateLimits } from './rate-limiter';
import {
  type FailedRecords,
  StreamPoller,
  type StreamPollerOptions,
  type StreamPollerStats,
} from './stream-poller';
import { type WebViewOptions, webViewResponder } from './web-view';

/** The dispatch function as the poller invokes it: one batch of stream records in, failures out. */
export type DispatchFunction = (records: DynamoDBRecord[]) => Promise<DynamoDBBatchResponse>;

export interface LocalServiceOptions {
  tableName: string;
  queuePrefix: string;
  port?: number;
  host?: string;
  rateLimits?: RateLimits;
  onError?: (error: unknown) => void;
  /**
   * How the stream poller retries dispatch (Lambda's event source mapping settings): retries, backoff,
   * batch size. Records whose retries are exhausted go to the `dispatch-failures` queue (see redrive.ts).
   */
  stream?: Omit<StreamPollerOptions, 'onFailure' | 'onError'>;
  /**
   * The local identity provider whose two issuers the authorizer trusts (and no others); default
   * LOCAL_IDENTITY_ORIGIN, which `npm start` and the integration tests' global setup set.
   */
  identityOrigin?: string;
  /** Test hook: wraps the dispatch function, e.g. to make it crash mid-batch. `npm start` never sets it. */
  wrapDispatch?: (dispatch: DispatchFunction) => DispatchFunction;
  /** Serve the clinician web view at /web/, signing in with this issuer (local/web-view.ts). */
  webView?: WebViewOptions;
  /**
   * false: no stream poller in this process (start one with startLocalDispatch elsewhere). Default
   * true: `npm start` and the tests run the whole service in one process.
   */
  dispatch?: boolean;
}

export interface LocalService {
  url: string;
  tableName: string;
  queuePrefix: string;
  /** Creates the queue and dead-letter queue of a council, as the messaging stack does per council. */
  ensureCouncilQueues(councilCode: string): Promise<string>;
  /** The on-failure destination of the stream poller: `npm run redrive` re-delivers what it holds. */
  failureQueueName: string;
  /** Resolves when every stream record written so far has been dispatched (or sent to the failure queue). */
  drained(): Promise<void>;
  streamStats(): StreamPollerStats;
  close(): Promise<void>;
}

/** Redrive after this many receives, as the deployed queues do. */
export const MAX_RECEIVE_COUNT = 5;

export async function createTable(tableName: string): Promise<void> {
  const dynamodb = new DynamoDBClient({});
  try {
    await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  const [index] = tableDefinition.indexes;
  await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: tableDefinition.partitionKey, AttributeType: 'S' },
        { AttributeName: tableDefinition.sortKey, AttributeType: 'S' },
        { AttributeName: index.partitionKey, AttributeType: 'S' },
        { AttributeName: index.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: tableDefinition.partitionKey, KeyType: 'HASH' },
        { AttributeName: tableDefinition.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: index.name,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
    }),
  );
}

/**
 * Lambda's event filter matching, for the syntax the patterns use: every key of the pattern must be in
 * the record; an array lists the values allowed (exact strings or booleans, or `{ prefix }`); an object
 * matches one level down.
 */
function matchesFilterPattern(pattern: unknown, value: unknown): boolean {
  if (Array.isArray(pattern)) {
    return pattern.some((allowed) =>
      typeof allowed === 'object' && allowed !== null
        ? typeof value === 'string' && value.startsWith((allowed as { prefix: string }).prefix)
        : value === allowed,
    );
  }
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(pattern as Record<string, unknown>).every(([key, inner]) =>
    matchesFilterPattern(inner, (value as Record<string, unknown>)[key]),
  );
}

/** Whether a stream record reaches the dispatch function: the very patterns Lambda applies deployed. */
export function passesDispatchFilter(record: DynamoDBRecord): boolean {
  return tableDefinition.dispatchFilterPatterns.some((pattern) => matchesFilterPattern(pattern, record));
}

export async function startLocalService(options: LocalServiceOptions): Promise<LocalService> {
  process.env.TABLE_NAME = options.tableName;
  process.env.COUNCIL_QUEUE_NAME_PREFIX = options.queuePrefix;
  // DynamoDB Local serialises transactions (docs/adr/0011).
  process.env.PLAN_WRITE_CONCURRENCY ??= '1';
  const identityOrigin = options.identityOrigin ?? process.env.LOCAL_IDENTITY_ORIGIN;
  if (!identityOrigin)
    throw new Error(
      'No identity provider: start one (local/identity-provider.ts) and set LOCAL_IDENTITY_ORIGIN',
    );
  // Read by the authorizer when it is imported below.
  process.env.JWT_ISSUERS = JSON.stringify(localIssuers(identityOrigin));
  await createTable(options.tableName);

  // Every function of the catalogue, one at a time: jest's ESM loader fails on concurrent imports of a
  // shared dependency.
  const { API_ENTRIES } = await import('../functions/http/routes');
  const { catalog } = await import('../functions/catalog');
  const apiHandlers: Record<string, ProxyHandler> = {};
  for (const entry of API_ENTRIES) {
    const module = (await import(`../functions/${catalog.api[entry].entry}.ts`)) as { handler: ProxyHandler };
    apiHandlers[entry] = module.handler;
  }
  const authorizer = await import('../functions/authorizer');
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  const ensureCouncilQueues = async (councilCode: string): Promise<string> => {
    const dlq = await sqs.send(
      new CreateQueueCommand({ QueueName: councilDeadLetterQueueName(options.queuePrefix, councilCode) }),
    );
    const dlqAttributes = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    const queue = await sqs.send(
      new CreateQueueCommand({
        QueueName: councilQueueName(options.queuePrefix, councilCode),
        Attributes: {
          VisibilityTimeout: '180',
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: dlqAttributes.Attributes?.QueueArn,
            maxReceiveCount: String(MAX_RECEIVE_COUNT),
          }),
        },
      }),
    );
    return queue.QueueUrl as string;
  };

  // Councils registered in an earlier run (with a data directory) get their queues back.
  const { createDocumentClient, createStore } = await import('../functions/store');
  const store = createStore({ client: createDocumentClient(), tableName: options.tableName });
  for (const code of await store.councils.listCodes()) await ensureCouncilQueues(code);

  const registerCouncil = apiHandlers['register-council'] as ProxyHandler;
  const handlers: Record<string, ProxyHandler> = {
    ...apiHandlers,
    // Deployed, the messaging stack creates a council's queues from config; locally they appear when
    // the council registers, before its registration is answered.
    'register-council': async (event, context) => {
      const result = await registerCouncil(event, context);
      if (result.statusCode === 200) await ensureCouncilQueues(event.pathParameters?.councilCode as string);
      return result;
    },
  };

  const dispatcher = options.dispatch === false ? undefined : await startLocalDispatch(options);

  const server = createHttpAdapter({
    handlers,
    authorizer: cachedAuthorizer((event) =>
      authorizer.handler(event, lambdaContext('authorizer', `authorizer-${Date.now()}`)),
    ),
    rateLimiter: new RateLimiter(options.rateLimits ?? DEFAULT_RATE_LIMITS),
    onError: options.onError,
    pages: options.webView ? webViewResponder(options.webView) : undefined,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${address.port}`,
    tableName: options.tableName,
    queuePrefix: options.queuePrefix,
    ensureCouncilQueues,
    failureQueueName: dispatchFailureQueueName(options.queuePrefix),
    drained: () => dispatcher?.drained() ?? Promise.reject(new Error(NO_DISPATCH)),
    streamStats: () => {
      if (!dispatcher) throw new Error(NO_DISPATCH);
      return dispatcher.streamStats();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dispatcher?.close();
    },
  };
}

const NO_DISPATCH = 'This service was started without its stream poller (dispatch: false)';

export type LocalDispatchOptions = Pick<
  LocalServiceOptions,
  'tableName' | 'queuePrefix' | 'stream' | 'onError' | 'wrapDispatch'
>;

export interface LocalDispatch {
  failureQueueName: string;
  drained(): Promise<void>;
  streamStats(): StreamPollerStats;
  close(): Promise<void>;
}

/**
 * The stream poller feeding the real dispatch function, as Lambda's event source mapping does: in the
 * service's process by default, or in a process of its own (the benchmark's, as deployed, where
 * dispatch is a function of its own). The table must exist.
 */
export async function startLocalDispatch(options: LocalDispatchOptions): Promise<LocalDispatch> {
  process.env.TABLE_NAME = options.tableName;
  process.env.COUNCIL_QUEUE_NAME_PREFIX = options.queuePrefix;
  const dispatch = await import('../functions/dispatch');
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  const realDispatch: DispatchFunction = async (records) =>
    (await dispatch.handler(
      { Records: records },
      lambdaContext('dispatch', `dispatch-${Date.now()}`),
    )) as DynamoDBBatchResponse;
  const dispatchBatch = options.wrapDispatch ? options.wrapDispatch(realDispatch) : realDispatch;

  // Lambda's on-failure destination for the stream: one message per record given up on.
  const failureQueueName = dispatchFailureQueueName(options.queuePrefix);
  const sendToFailureQueue = async (failure: FailedRecords) => {
    // The local runtime owns this queue; (re)create it first, as an SQS restart loses it.
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: failureQueueName }));
    for (const message of failureMessages(failure)) {
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(message) }));
    }
  };
  await sqs.send(new CreateQueueCommand({ QueueName: failureQueueName }));

  const poller = new StreamPoller(
    options.tableName,
    async (records) => {
      const passed = records.filter(passesDispatchFilter);
      if (passed.length === 0) return { failedSequenceNumbers: [] };
      try {
        const result = await dispatchBatch(passed);
        return { failedSequenceNumbers: result.batchItemFailures.map((failure) => failure.itemIdentifier) };
      } catch (error) {
        // Lambda retries the whole batch when the function fails; so does the poller.
        options.onError?.(error);
        return { failedSequenceNumbers: passed.map((record) => record.dynamodb?.SequenceNumber as string) };
      }
    },
    { ...options.stream, onError: options.onError, onFailure: sendToFailureQueue },
  );
  await poller.start();
  return {
    failureQueueName,
    drained: () => poller.drained(),
    streamStats: () => poller.stats(),
    close: () => poller.stop(),
  };
}
