/**
 * Runs the real local service (HTTP adapter, handlers, stream poller, dispatch) in the test process
 * against the emulators the global setup started, with its own table and queue names.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import { councilDeadLetterQueueName, councilQueueName } from '../../functions/notify/council-queues';
import type { RateLimits } from '../../local/rate-limiter';
import type { LocalService, LocalServiceOptions } from '../../local/service';
import * as testkit from '../../testkit';
import { type Caller, EXAMPLE_COUNCIL, tokens } from '../../testkit';
import { assertCouncilMessage } from '../../testkit/council-messages';

export interface ApiResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  rawBody?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface TestService extends LocalService {
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<ApiResult<T>>;
  scanTable(): Promise<Record<string, unknown>[]>;
  /**
   * Waits for the stream to be dispatched, then takes every message waiting on the council's queue;
   * throws if one does not validate against asyncapi.json.
   */
  takeMessages(councilCode: string, options?: { deadLetter?: boolean }): Promise<any[]>;
}

// One client each per test file, made on first use (after the test setup has set the endpoints).
let documentClient: DynamoDBDocumentClient | undefined;
const documents = () => (documentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({})));
let sqsClient: SQSClient | undefined;
const sqs = () => (sqsClient ??= new SQSClient({ useQueueUrlAsEndpoint: false }));

/** Status, headers, text and JSON body (undefined when the body is not JSON) of a response. */
export async function readResponse<T = any>(response: Response): Promise<ApiResult<T>> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, body: body as T, text };
}

/** A request as a client system sends it: bearer token, JSON body unless told otherwise. */
export async function sendRequest<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  request: RequestOptions = {},
): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { ...request.headers };
  if (request.token) headers.Authorization = `Bearer ${request.token}`;
  let body: string | undefined = request.rawBody;
  if (request.body !== undefined) body = JSON.stringify(request.body);
  if (body !== undefined && request.contentType !== undefined) headers['Content-Type'] = request.contentType;
  else if (body !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-type'))
    headers['Content-Type'] = 'application/json';
  return readResponse<T>(await fetch(`${baseUrl}${path}`, { method, headers, body }));
}

/**
 * Every message waiting on a queue, by name, deleted once read (no waiting for the stream). A queue
 * that does not exist (e.g. the failure queue, created on first use) holds nothing when missingOk.
 */
export async function receiveAllMessages(queueName: string, { missingOk = false } = {}): Promise<any[]> {
  let QueueUrl: string | undefined;
  try {
    ({ QueueUrl } = await sqs().send(new GetQueueUrlCommand({ QueueName: queueName })));
  } catch (error) {
    if (missingOk && (error as Error).name === 'QueueDoesNotExist') return [];
    throw error;
  }
  const messages: any[] = [];
  for (;;) {
    const result = await sqs().send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!result.Messages?.length) break;
    for (const message of result.Messages) messages.push(JSON.parse(message.Body as string));
    await sqs().send(
      new DeleteMessageBatchCommand({
        QueueUrl,
        Entries: result.Messages.map((message, i) => ({
          Id: String(i),
          ReceiptHandle: message.ReceiptHandle,
        })),
      }),
    );
  }
  return messages;
}

/** Every item of a table, strongly consistent, in key order. */
export async function scanTableItems(tableName: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for await (const page of paginateScan(
    { client: documents() },
    { TableName: tableName, ConsistentRead: true },
  )) {
    items.push(...(page.Items ?? []));
  }
  return items.sort((a, b) => `${a.PK}|${a.SK}`.localeCompare(`${b.PK}|${b.SK}`));
}

export interface TestServiceOptions {
  /** 'default': the local service's own limits (the contract's); else high enough never to throttle. */
  rateLimits?: RateLimits | 'default';
  stream?: LocalServiceOptions['stream'];
  wrapDispatch?: LocalServiceOptions['wrapDispatch'];
  /** Errors the runtime reports (dispatch failures, crashes); printed unless a test collects them. */
  onError?: (error: unknown) => void;
  /** Start of the table name, to tell test files' tables apart. */
  tablePrefix?: string;
  /** The identity provider the service trusts; default the one the global setup started. */
  identityOrigin?: string;
}

export async function startTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const suffix = randomBytes(4).toString('hex');
  const { startLocalService } = await import('../../local/service');
  const service = await startLocalService({
    tableName: `${options.tablePrefix ?? 'test'}-${suffix}`,
    queuePrefix: `t${suffix}-`,
    port: 0,
    rateLimits:
      options.rateLimits === 'default'
        ? undefined
        : (options.rateLimits ?? {
            perCallerPerMinute: 1_000_000,
            perUserPerMinute: 1_000_000,
            perOrganisationPerMinute: 1_000_000,
          }),
    stream: options.stream,
    wrapDispatch: options.wrapDispatch,
    identityOrigin: options.identityOrigin,
    onError: options.onError ?? ((error) => console.error('local runtime error', error)),
  });
  return {
    ...service,
    request: (method, path, request) => sendRequest(service.url, method, path, request),
    scanTable: () => scanTableItems(service.tableName),
    async takeMessages(councilCode, { deadLetter = false } = {}) {
      await service.drained();
      const name = deadLetter ? councilDeadLetterQueueName : councilQueueName;
      const messages = await receiveAllMessages(name(service.queuePrefix, councilCode));
      // Every message a test receives must be one the published contract (asyncapi.json) describes.
      for (const message of messages) assertCouncilMessage(message);
      return messages;
    },
  };
}

export { EXAMPLE_COUNCIL, testNhsNumber, tokens } from '../../testkit';

export async function registerCouncil(service: TestService, code: string, body: object = EXAMPLE_COUNCIL) {
  return testkit.registerCouncil<ApiResult>(service, code, body);
}

export async function publishPlan(
  service: TestService,
  code: string,
  nhsNumber: string,
  planType: string,
  body: object,
  headers?: Record<string, string>,
) {
  return testkit.publishPlan<ApiResult>(service, code, nhsNumber, planType, body, { headers });
}

/**
 * Starts a test service before the file's tests (registering the given councils, by code or with
 * their details) and closes it after them. The returned object stands for the running service.
 */
export function useTestService(
  councils: (string | [string, object])[] = [],
  options: { rateLimits?: RateLimits } = {},
): TestService {
  let started: TestService | undefined;
  beforeAll(async () => {
    started = await startTestService(options);
    for (const council of councils) {
      if (typeof council === 'string') await registerCouncil(started, council);
      else await registerCouncil(started, council[0], council[1]);
    }
  });
  afterAll(async () => {
    await started?.close();
  });
  return new Proxy({} as TestService, {
    get: (_, property) => {
      if (!started) throw new Error('The test service is used before beforeAll started it');
      return started[property as keyof TestService];
    },
  });
}

/** GET /v1/children/{nhsNumber} as a clinician holding the given permission codes. */
export async function lookupChild(
  service: TestService,
  nhsNumber: string,
  activities: string[] = ['B0107'],
  extra: Partial<Caller> = {},
) {
  return service.request('GET', `/v1/children/${nhsNumber}`, {
    token: await tokens.clinician(activities, extra),
  });
}

/** The service's store, as its handlers use it: for tests that drive a repository directly. */
export async function serviceStore(service: Pick<LocalService, 'tableName'>) {
  const { createDocumentClient, createStore } = await import('../../functions/store');
  return createStore({ client: createDocumentClient(), tableName: service.tableName });
}

/**
 * Asserts that the table now holds what it held before plus exactly the items named [PK, action]:
 * the refusal events the contract lets a refused request write (PLAN_REFUSED, ACCESS_DENIED).
 */
export async function expectOnlyAdded(
  service: Pick<TestService, 'scanTable'>,
  before: Record<string, unknown>[],
  added: [string, string][],
): Promise<void> {
  const after = await service.scanTable();
  const fresh = after.filter((item) => !before.some((old) => old.PK === item.PK && old.SK === item.SK));
  expect(fresh.map((item) => [item.PK, item.action])).toEqual(added);
  expect(after.filter((item) => !fresh.includes(item))).toEqual(before);
}

/** The demographics service flags a person as sensitive (asserts it was recorded). */
export async function flagSensitive(service: Pick<TestService, 'request'>, nhsNumber: string): Promise<void> {
  const response = await service.request('PUT', `/v1/nhs-numbers/${nhsNumber}/sensitivity`, {
    token: await tokens.demographics(),
    body: { sensitive: true },
  });
  expect(response.status).toBe(200);
}
