/**
 * Shared by the reliability tests: a local service with the stream and dispatch options they need, a
 * fauxqs process a test can stop and restart, a fault-injecting proxy for the AWS endpoints, and the
 * counters each test leaves in .local/reliability/ for `npm run reliability:report`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { councilDeadLetterQueueName, councilQueueName } from '../../../functions/notify/council-queues';
import { assertCouncilMessage } from '../../../testkit/council-messages';
import { receiveAllMessages, startTestService, type TestService, type TestServiceOptions } from '../harness';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

// ---------------------------------------------------------------------------------------------------
// The service

export type ReliabilityServiceOptions = Omit<TestServiceOptions, 'tablePrefix'>;

export interface ReliabilityService extends TestService {
  /**
   * receiveAllMessages (harness.ts); on a council's queue or dead-letter queue, every message must be
   * one the published contract (asyncapi.json) describes, as the harness's takeMessages checks.
   */
  receiveAll(queueName: string, options?: { missingOk?: boolean }): Promise<any[]>;
  councilQueue(councilCode: string): string;
  councilDeadLetterQueue(councilCode: string): string;
}

/** The harness's test service, with direct access to its queues. */
export async function startReliabilityService(
  options: ReliabilityServiceOptions = {},
): Promise<ReliabilityService> {
  const service = await startTestService({ ...options, tablePrefix: 'rel' });
  return {
    ...service,
    councilQueue: (code) => councilQueueName(service.queuePrefix, code),
    councilDeadLetterQueue: (code) => councilDeadLetterQueueName(service.queuePrefix, code),
    async receiveAll(queueName, options) {
      const messages = await receiveAllMessages(queueName, options);
      // The failure queue holds the stream's failure records, not council messages.
      const councilQueue =
        queueName !== service.failureQueueName && queueName.startsWith(service.queuePrefix);
      if (councilQueue) for (const message of messages) assertCouncilMessage(message);
      return messages;
    },
  };
}

/**
 * The reliability service with its DynamoDB traffic through a FaultProxy, which must be in place before
 * the service (and the table module's client) is imported; stop both with stopProxiedService.
 */
export async function startProxiedService(): Promise<{ proxy: FaultProxy; service: ReliabilityService }> {
  const proxy = await FaultProxy.start(process.env.AWS_ENDPOINT_URL_DYNAMODB as string);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = proxy.url;
  const service = await startReliabilityService({ onError: () => undefined });
  return { proxy, service };
}

export async function stopProxiedService(started: {
  proxy?: FaultProxy;
  service?: ReliabilityService;
}): Promise<void> {
  await started.service?.close();
  await started.proxy?.close();
}

// ---------------------------------------------------------------------------------------------------
// Response checks

/** What a response body must never contain: stack frames, source paths, SDK internals. */
export const STACK_TRACE = /\n\s+at |\bat [\w.<>]+ \(|\.ts:\d+|\.js:\d+|node_modules|Error: |Exception\b/;

export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
}

// ---------------------------------------------------------------------------------------------------
// A fauxqs process of the test's own, on a fixed port, that it can stop and start again

export class FauxqsProcess {
  private child?: ChildProcess;

  constructor(readonly port: number) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const cli = path.join(ROOT, 'node_modules', 'fauxqs', 'dist', 'cli.js');
    const child = spawn(process.execPath, [cli], {
      env: {
        ...process.env,
        FAUXQS_PORT: String(this.port),
        FAUXQS_LOGGER: 'false',
        FAUXQS_DEFAULT_REGION: 'eu-west-2',
      },
      stdio: 'ignore',
    });
    this.child = child;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`fauxqs exited during start-up (${child.exitCode})`);
      const up = await fetch(`${this.endpoint}/health`)
        .then((response) => response.ok)
        .catch(() => false);
      if (up) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('fauxqs did not start within 30 s');
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------------
// A proxy in front of DynamoDB Local or fauxqs that injects faults and observes writes

export type Fault =
  /** DynamoDB answers 400 ThrottlingException (the SDK retries it). */
  | 'throttle'
  | 'provisioned-throughput-exceeded'
  /** TransactWriteItems cancelled because another transaction touched an item. */
  | 'transaction-conflict'
  /** TransactWriteItems cancelled by throttling of one of its items. */
  | 'transaction-throttled'
  | 'transaction-in-progress'
  /** A 500 with nothing done. */
  | 'internal-error'
  /** The request is carried out, then answered 500: the caller cannot know it happened. */
  | 'commit-then-fail';

export interface FaultRule {
  /** The operation of the X-Amz-Target header, e.g. TransactWriteItems, Query, SendMessage. */
  operation: string;
  fault: Fault;
  /** How many requests to fault (default: every one until cleared). */
  times?: number;
  match?: (body: any) => boolean;
}

export interface ObservedWrite {
  operation: string;
  body: any;
}

const WRITE_OPERATIONS = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
]);
const DYNAMODB_ERROR = 'com.amazonaws.dynamodb.v20120810#';

function faultResponse(fault: Fault, body: any): { status: number; body: unknown } {
  const reasons = (code: string) =>
    (body?.TransactItems ?? [{}]).map((_: unknown, index: number) =>
      index === 0 ? { Code: code, Message: `${code} (injected)` } : { Code: 'None' },
    );
  switch (fault) {
    case 'throttle':
      return {
        status: 400,
        body: {
          __type: `${DYNAMODB_ERROR}ThrottlingException`,
          message: 'Rate of requests exceeds the allowed throughput.',
        },
      };
    case 'provisioned-throughput-exceeded':
      return {
        status: 400,
        body: {
          __type: `${DYNAMODB_ERROR}ProvisionedThroughputExceededException`,
          message: 'The level of configured provisioned throughput for the table was exceeded.',
        },
      };
    case 'transaction-conflict':
    case 'transaction-throttled': {
      const code = fault === 'transaction-conflict' ? 'TransactionConflict' : 'ThrottlingError';
      const all = reasons(code);
      return {
        status: 400,
        body: {
          __type: `${DYNAMODB_ERROR}TransactionCanceledException`,
          Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${all.map((r: { Code: string }) => r.Code).join(', ')}]`,
          CancellationReasons: all,
        },
      };
    }
    case 'transaction-in-progress':
      return {
        status: 400,
        body: {
          __type: `${DYNAMODB_ERROR}TransactionInProgressException`,
          message: 'Transaction in progress',
        },
      };
    default:
      return {
        status: 500,
        body: { __type: `${DYNAMODB_ERROR}InternalServerError`, message: 'Internal error' },
      };
  }
}

export class FaultProxy {
  private rules: (FaultRule & { remaining: number })[] = [];
  private writes: ObservedWrite[] = [];
  private requests: ObservedWrite[] = [];
  /** Faults injected so far, by operation:fault. */
  readonly injected = new Map<string, number>();
  /**
   * Errors the real service answered (not injected), by operation:reason, e.g.
   * TransactWriteItems:TransactionConflict, TransactWriteItems:ConditionalCheckFailed.
   */
  readonly observedErrors = new Map<string, number>();
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });

  private constructor(
    private readonly server: Server,
    private readonly target: URL,
  ) {}

  static async start(target: string): Promise<FaultProxy> {
    const server = createServer();
    const proxy = new FaultProxy(server, new URL(target));
    server.on('request', (request, response) => {
      proxy.handle(request).then(
        ({ status, headers, body }) => {
          response.writeHead(status, headers);
          response.end(body);
        },
        () => response.destroy(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  inject(rule: FaultRule): void {
    this.rules.push({ ...rule, remaining: rule.times ?? Number.POSITIVE_INFINITY });
  }

  clear(): void {
    this.rules = [];
  }

  totalInjected(): number {
    return [...this.injected.values()].reduce((sum, n) => sum + n, 0);
  }

  /** Successful write requests since the last call. */
  takeWrites(): ObservedWrite[] {
    return this.writes.splice(0);
  }

  /** Every DynamoDB request (not DynamoDB Streams) since the last call, answered or not. */
  takeRequests(): ObservedWrite[] {
    return this.requests.splice(0);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.agent.destroy();
  }

  private async handle(
    request: IncomingMessage,
  ): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.slice(target.indexOf('.') + 1);
    let body: any;
    try {
      body = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : undefined;
    } catch {
      body = undefined;
    }
    if (target.startsWith('DynamoDB_20120810.')) this.requests.push({ operation, body });
    const rule = this.rules.find(
      (candidate) =>
        candidate.remaining > 0 && candidate.operation === operation && (candidate.match?.(body) ?? true),
    );
    if (rule) {
      rule.remaining--;
      const key = `${operation}:${rule.fault}`;
      this.injected.set(key, (this.injected.get(key) ?? 0) + 1);
      if (rule.fault !== 'commit-then-fail') {
        const fault = faultResponse(rule.fault, body);
        return {
          status: fault.status,
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            'x-amzn-requestid': randomBytes(8).toString('hex'),
          },
          body: Buffer.from(JSON.stringify(fault.body)),
        };
      }
    }
    const forwarded = await this.forward(request, raw);
    if (forwarded.status === 200 && WRITE_OPERATIONS.has(operation)) this.writes.push({ operation, body });
    if (forwarded.status >= 400) this.observe(operation, forwarded.body);
    if (rule?.fault === 'commit-then-fail') {
      const fault = faultResponse('internal-error', body);
      return {
        status: fault.status,
        headers: { 'content-type': 'application/x-amz-json-1.0' },
        body: Buffer.from(JSON.stringify(fault.body)),
      };
    }
    return forwarded;
  }

  private observe(operation: string, body: Buffer): void {
    let reasons: string[] = [];
    try {
      const error = JSON.parse(body.toString('utf8'));
      const type = String(error.__type ?? 'unknown')
        .split('#')
        .pop() as string;
      const codes = (error.CancellationReasons ?? [])
        .map((reason: { Code?: string }) => reason.Code)
        .filter((code: string | undefined) => code && code !== 'None');
      reasons = codes.length > 0 ? codes : [type];
    } catch {
      reasons = ['unreadable'];
    }
    for (const reason of new Set(reasons)) {
      const key = `${operation}:${reason}`;
      this.observedErrors.set(key, (this.observedErrors.get(key) ?? 0) + 1);
    }
  }

  private forward(
    request: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const headers = { ...request.headers, host: this.target.host };
      const outgoing = httpRequest(
        {
          host: this.target.hostname,
          port: this.target.port,
          method: request.method,
          path: request.url,
          headers,
          agent: this.agent,
        },
        (incoming) => {
          const parts: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => parts.push(chunk));
          incoming.on('end', () => {
            const responseHeaders: Record<string, string> = {};
            for (const [name, value] of Object.entries(incoming.headers)) {
              if (value !== undefined && name !== 'transfer-encoding' && name !== 'connection')
                responseHeaders[name] = String(value);
            }
            const responseBody = Buffer.concat(parts);
            responseHeaders['content-length'] = String(responseBody.length);
            resolve({ status: incoming.statusCode ?? 502, headers: responseHeaders, body: responseBody });
          });
          incoming.on('error', reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }
}

// ---------------------------------------------------------------------------------------------------
// Counters for the report

/** Fuzz runs per property: FUZZ_RUNS (npm run test:deep sets 10,000), else the test's default. */
export function fuzzRuns(fallback = 1000): number {
  const runs = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(runs) && runs > 0 ? runs : fallback;
}

/** `default` for npm test, `runs-N` when FUZZ_RUNS is set. */
export function reliabilityProfile(): string {
  return process.env.FUZZ_RUNS ? `runs-${process.env.FUZZ_RUNS}` : 'default';
}

export interface ReliabilityRecord {
  /** One of the guarantees of docs/reliability.md. */
  guarantee:
    | 'No lost notifications'
    | 'No partial state'
    | 'Fuzzing'
    | 'Authorization matrix'
    | 'Enumeration defence'
    | 'Privacy allow-list';
  /** The test's name, as jest prints it. */
  test: string;
  /** Generated or enumerated inputs tried. */
  inputs: number;
  /** Faults injected (stopped emulators, failed sends, crashes, throttles, conflicts). */
  faultsInjected: number;
  /** Outcome counts, e.g. { "2xx": 120, "4xx": 880 }. */
  outcomes: Record<string, number>;
  notes?: string[];
}

/**
 * Where a test file leaves its counters: .local/reliability/<profile>/<file>.<name>.json. Creating the
 * recorder (at the top of the test file) forgets what an earlier run of the file recorded; call the
 * returned function at the end of a test body, so a record exists only for a test that passed.
 */
export function reliabilityRecorder(file: string): (name: string, record: ReliabilityRecord) => void {
  const dir = path.join(ROOT, '.local', 'reliability', reliabilityProfile());
  mkdirSync(dir, { recursive: true });
  for (const entry of readdirSync(dir)) if (entry.startsWith(`${file}.`)) rmSync(path.join(dir, entry));
  return (name, record) => {
    writeFileSync(
      path.join(dir, `${file}.${name}.json`),
      `${JSON.stringify(
        {
          ...record,
          file: `test/integration/reliability/${file}.test.ts`,
          profile: reliabilityProfile(),
          recordedAt: new Date().toISOString(),
        },
        null,
        2,
      )}\n`,
    );
  };
}

/** Adds a count to an outcome map. */
export function count(outcomes: Record<string, number>, key: string, by = 1): void {
  outcomes[key] = (outcomes[key] ?? 0) + by;
}
