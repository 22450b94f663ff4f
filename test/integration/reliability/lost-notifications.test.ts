/**
 * No lost notifications. SQS is a real fauxqs process of this file's own, stopped and started again;
 * dispatch failures are real (a council queue that is missing, SQS down) or a crash of the dispatch
 * function after it sent part of a batch. Every access must reach its council queue, once per eventId
 * for a consumer that de-duplicates by eventId; retries back off; only records that failed
 * 1 + maxRetryAttempts times go to the failure queue, and `npm run redrive` delivers them.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  DeleteQueueCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { freePort } from '../../../local/emulators';
import { MAX_RECEIVE_COUNT } from '../../../local/service';
import type { RetryScheduled } from '../../../local/stream-poller';
import { publishPlan, registerCouncil, testNhsNumber, tokens } from '../harness';
import {
  FauxqsProcess,
  type ReliabilityService,
  reliabilityRecorder,
  startReliabilityService,
  waitFor,
} from './support';

const record = reliabilityRecorder('lost-notifications');

const run = promisify(execFile);
let fauxqs: FauxqsProcess;
let sqs: SQSClient;

beforeAll(async () => {
  fauxqs = new FauxqsProcess(await freePort());
  await fauxqs.start();
  // Before the service (and with it every SDK client of the functions) is imported.
  process.env.AWS_ENDPOINT_URL_SQS = fauxqs.endpoint;
  sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
}, 60_000);

afterAll(async () => {
  await fauxqs?.stop();
});

interface Delivered {
  eventId: string;
  [field: string]: unknown;
}

/** Groups messages by eventId and checks every copy of one eventId is the same notification. */
function byEventId(messages: Delivered[]): Map<string, Delivered[]> {
  const groups = new Map<string, Delivered[]>();
  for (const message of messages)
    groups.set(message.eventId, [...(groups.get(message.eventId) ?? []), message]);
  for (const copies of groups.values()) for (const copy of copies) expect(copy).toEqual(copies[0]);
  return groups;
}

/** The council messages the table's audit events carry about these NHS numbers, with each event's sort key. */
async function carriedMessages(service: ReliabilityService, nhsNumbers: string[]) {
  return (await service.scanTable())
    .filter((item) => item.kind === 'AUDIT' && item.notifies === true)
    .flatMap((item) =>
      (item.messages as { eventId: string; nhsNumber: string; councilCode: string }[]).map((message) => ({
        ...message,
        sortKey: item.SK as string,
      })),
    )
    .filter((message) => nhsNumbers.includes(message.nhsNumber));
}

const lookup = async (service: ReliabilityService, nhsNumber: string) => {
  const response = await service.request('GET', `/v1/children/${nhsNumber}`, {
    token: await tokens.clinician(['B0107']),
  });
  expect(response.status).toBe(200);
};

describe('SQS stopped during notifying lookups, then restarted (retry budget longer than the outage)', () => {
  const RETRY_BASE_MS = 50;
  const RETRY_MAX_MS = 400;
  let service: ReliabilityService;
  const retries: RetryScheduled[] = [];

  beforeAll(async () => {
    service = await startReliabilityService({
      stream: {
        maxRetryAttempts: 1000,
        retryBaseMs: RETRY_BASE_MS,
        retryMaxMs: RETRY_MAX_MS,
        onRetry: (retry) => retries.push(retry),
      },
      onError: () => undefined, // failed sends while SQS is down are the point of the test
    });
    await registerCouncil(service, 'E09000001');
    await registerCouncil(service, 'E08000025');
  }, 60_000);
  afterAll(async () => {
    await service?.close();
  });

  it('delivers every access to its council queue exactly once by eventId, after retries with backoff', async () => {
    const children = [0, 1, 2, 3, 4, 5].map((i) => testNhsNumber(61_000 + i * 10));
    for (const [i, child] of children.entries()) {
      await publishPlan(service, 'E09000001', child, 'CPP', { startDate: '2026-01-01' });
      if (i % 2 === 0) await publishPlan(service, 'E08000025', child, 'LAC', { startDate: '2026-02-01' });
    }
    // A running service has already sent to these queues (their URLs are known): while SQS is down
    // it is SendMessage itself that fails.
    await lookup(service, children[0] as string);
    await service.drained();
    const warmUp = (await carriedMessages(service, children)).map((m) => m.eventId);
    await service.receiveAll(service.councilQueue('E09000001'));
    await service.receiveAll(service.councilQueue('E08000025'));

    await fauxqs.stop();
    let expected: Awaited<ReturnType<typeof carriedMessages>>;
    try {
      // Notifying lookups do not depend on SQS: they answer at once.
      for (const child of children) await lookup(service, child);
      expected = (await carriedMessages(service, children)).filter((m) => !warmUp.includes(m.eventId));
      expect(expected).toHaveLength(children.length + children.length / 2);
      // The poller keeps retrying while SQS is down.
      await waitFor('three retries while SQS is down', () => retries.length >= 3);
    } catch (error) {
      await fauxqs.start();
      throw error;
    }
    // Each pause twice the last, up to the cap.
    const delays = retries.map((retry) => retry.delayMs);
    expect(retries[0]).toMatchObject({ attempt: 1, delayMs: RETRY_BASE_MS });
    for (let i = 1; i < retries.length; i++) {
      const [previous, current] = [retries[i - 1] as RetryScheduled, retries[i] as RetryScheduled];
      if (current.attempt === previous.attempt + 1) {
        expect(current.delayMs).toBe(Math.min(RETRY_MAX_MS, previous.delayMs * 2));
      }
    }
    // Nothing is lost meanwhile: the audit events carrying the messages are in the table.
    const stillThere = (await carriedMessages(service, children)).map((m) => m.eventId);
    for (const message of expected) expect(stillThere).toContain(message.eventId);

    // fauxqs keeps queues in memory: after the restart the messaging stack's queues are recreated.
    await fauxqs.start();
    await service.ensureCouncilQueues('E09000001');
    await service.ensureCouncilQueues('E08000025');
    await service.drained();

    const delivered = [
      ...(await service.receiveAll(service.councilQueue('E09000001'))),
      ...(await service.receiveAll(service.councilQueue('E08000025'))),
    ];
    const groups = byEventId(delivered);
    expect([...groups.keys()].sort()).toEqual(expected.map((m) => m.eventId).sort());
    for (const carried of expected) {
      expect(groups.get(carried.eventId)?.[0]).toMatchObject({
        type: 'ChildRecordAccessed',
        councilCode: carried.councilCode,
        nhsNumber: carried.nhsNumber,
      });
    }
    // Within its retry budget nothing was given up on.
    expect(await service.receiveAll(service.failureQueueName, { missingOk: true })).toEqual([]);
    const stats = service.streamStats();
    expect(stats.sentToFailureDestination).toBe(0);

    record('sqs-restart', {
      guarantee: 'No lost notifications',
      test: 'SQS stopped during notifying lookups, then restarted: every access delivered once by eventId, after retries with backoff',
      inputs: children.length,
      faultsInjected: 1 + stats.failedInvocations,
      outcomes: {
        'notifications expected': expected.length,
        'distinct eventIds delivered': groups.size,
        'copies delivered': delivered.length,
        'failed dispatch invocations while SQS was down': stats.failedInvocations,
        'retries scheduled': retries.length,
        'longest pause (ms)': Math.max(...delays),
        'sent to the failure queue': stats.sentToFailureDestination,
      },
    });
  });
});

describe('dispatch failures: partial batches, crashes, retries exhausted, redrive', () => {
  const MAX_RETRY_ATTEMPTS = 3;
  const RETRY_BASE_MS = 20;
  const RETRY_MAX_MS = 200;
  // Council codes of their own: the dispatch module caches queue URLs by council code.
  const [A, B, C] = ['E07000010', 'E07000011', 'E07000012'];
  let service: ReliabilityService;
  const retries: RetryScheduled[] = [];

  interface Invocation {
    records: { sequence: string; eventIds: string[]; councilCodes: string[] }[];
    failed: string[];
    crashed?: boolean;
  }
  const invocations: Invocation[] = [];
  let gate: { entered: boolean; open?: Promise<void> } = { entered: false };
  let crash: { remaining: number; afterSending: number } | undefined;

  const describeRecord = (record: DynamoDBRecord) => {
    const item = unmarshall(record.dynamodb?.NewImage as Record<string, AttributeValue>);
    const messages = (item.messages ?? []) as { eventId: string; councilCode: string }[];
    return {
      sequence: record.dynamodb?.SequenceNumber as string,
      eventIds: messages.map((message) => message.eventId),
      councilCodes: messages.map((message) => message.councilCode),
    };
  };
  const presentations = (eventId: string) =>
    invocations.filter((invocation) => invocation.records.some((r) => r.eventIds.includes(eventId))).length;

  /** Makes the records written by `rest` reach dispatch in one batch, after the batch `first` writes. */
  async function inOneBatch(first: () => Promise<void>, rest: () => Promise<void>) {
    let release: () => void = () => undefined;
    gate = {
      entered: false,
      open: new Promise<void>((resolve) => {
        release = resolve;
      }),
    };
    await first();
    await waitFor('the poller to hand the first record to dispatch', () => gate.entered);
    await rest();
    gate.open = undefined;
    release();
  }

  beforeAll(async () => {
    service = await startReliabilityService({
      stream: {
        maxRetryAttempts: MAX_RETRY_ATTEMPTS,
        retryBaseMs: RETRY_BASE_MS,
        retryMaxMs: RETRY_MAX_MS,
        onRetry: (retry) => retries.push(retry),
      },
      onError: () => undefined,
      wrapDispatch: (dispatch) => async (records) => {
        const summary = records.map(describeRecord);
        if (gate.open) {
          gate.entered = true;
          await gate.open;
        }
        if (crash && crash.remaining > 0 && records.length > crash.afterSending) {
          // The function dies (timeout, out of memory) after sending part of the batch.
          crash.remaining--;
          await dispatch(records.slice(0, crash.afterSending));
          invocations.push({ records: summary, failed: summary.map((r) => r.sequence), crashed: true });
          throw new Error('simulated crash of the dispatch function');
        }
        try {
          const result = await dispatch(records);
          invocations.push({
            records: summary,
            failed: result.batchItemFailures.map((f) => f.itemIdentifier),
          });
          return result;
        } catch (error) {
          invocations.push({ records: summary, failed: summary.map((r) => r.sequence) });
          throw error;
        }
      },
    });
    for (const code of [A, B, C]) await registerCouncil(service, code);
  }, 60_000);
  afterAll(async () => {
    await service?.close();
  });

  it('honours partial batch failures, retries from the first failed record with backoff, and gives up only after 1 + maxRetryAttempts; npm run redrive delivers what was given up', async () => {
    const [c1, c2, c3, c4, c5] = [0, 1, 2, 3, 4].map((i) => testNhsNumber(62_000 + i * 10));
    await publishPlan(service, A, c1 as string, 'CPP', { startDate: '2026-01-01' });
    await publishPlan(service, C, c2 as string, 'CPP', { startDate: '2026-01-01' });
    await publishPlan(service, A, c2 as string, 'LAC', { startDate: '2026-01-01' });
    await publishPlan(service, B, c3 as string, 'CPP', { startDate: '2026-01-01' });
    await publishPlan(service, C, c4 as string, 'LAC', { startDate: '2026-01-01' });
    await publishPlan(service, A, c5 as string, 'CPP', { startDate: '2026-01-01' });
    // Dispatch has sent to C before (its queue URL is known), so it is SendMessage that fails below.
    await lookup(service, c4 as string);
    await service.drained();
    await service.receiveAll(service.councilQueue(C));
    const warmUp = (await carriedMessages(service, [c4 as string])).map((m) => m.eventId);
    // Council C's queue is gone: every send to it fails, sends to A and B succeed.
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: service.councilQueue(C) }));
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));

    const startedAt = invocations.length;
    await inOneBatch(
      () => lookup(service, c1 as string),
      async () => {
        // B's record first: the batch starts with a record that succeeds, before C's fail.
        for (const child of [c3, c2, c4, c5]) await lookup(service, child as string);
      },
    );
    await service.drained();

    const all = (await carriedMessages(service, [c1, c2, c3, c4, c5] as string[])).filter(
      (m) => !warmUp.includes(m.eventId),
    );
    const toC = all.filter((m) => m.councilCode === C).map((m) => m.eventId);
    const toCKeys = all.filter((m) => m.councilCode === C).map((m) => m.sortKey);
    expect(toC).toHaveLength(2);
    const ours = invocations.slice(startedAt);
    // One record per lookup (c3, c2, c4, c5); c2's carries two messages, to A and to C.
    const mixed = ours.find((invocation) => invocation.records.length === 4) as Invocation;
    expect(mixed).toBeDefined();
    expect(mixed.records.map((r) => r.councilCodes.length).sort()).toEqual([1, 1, 1, 2]);
    // The dispatch function reports exactly the records it could not send (every one with a message to C).
    expect(mixed.failed.sort()).toEqual(
      mixed.records
        .filter((r) => r.councilCodes.includes(C))
        .map((r) => r.sequence)
        .sort(),
    );
    // Each retry starts at the first failed record of the attempt before, unless that record was given up on
    // (presented 1 + MAX_RETRY_ATTEMPTS times by then).
    let retriesChecked = 0;
    for (let i = 1; i < ours.length; i++) {
      const previous = ours[i - 1] as Invocation;
      if (previous.failed.length === 0) continue;
      const firstFailed = previous.records.find((r) => previous.failed.includes(r.sequence));
      const presentedSoFar = ours
        .slice(0, i)
        .filter((invocation) => invocation.records.some((r) => r.sequence === firstFailed?.sequence)).length;
      if (presentedSoFar > MAX_RETRY_ATTEMPTS) continue;
      expect((ours[i] as Invocation).records[0]?.sequence).toBe(firstFailed?.sequence);
      retriesChecked++;
    }
    expect(retriesChecked).toBe(MAX_RETRY_ATTEMPTS);
    // Records before the first failure are never presented again; C's exactly 1 + maxRetryAttempts times.
    const firstC = mixed.records.findIndex((r) => r.councilCodes.includes(C));
    expect(firstC).toBeGreaterThan(0);
    for (const before of mixed.records.slice(0, firstC))
      for (const eventId of before.eventIds) expect(presentations(eventId)).toBe(1);
    for (const eventId of toC) expect(presentations(eventId)).toBe(1 + MAX_RETRY_ATTEMPTS);
    // Pauses: base, then doubling, up to the cap.
    const ourRetries = retries.slice(-MAX_RETRY_ATTEMPTS);
    expect(ourRetries.map((r) => r.delayMs)).toEqual(
      [1, 2, 3].map((n) => Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (n - 1))),
    );

    // Only C's records were given up on, each once, in Lambda's on-failure format plus the item's sort key.
    const peek = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: (await sqs.send(new GetQueueUrlCommand({ QueueName: service.failureQueueName }))).QueueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
      }),
    );
    const failures = (peek.Messages ?? []).map((message) => JSON.parse(message.Body as string));
    expect(failures.map((f) => Object.keys(f.keys))).toEqual(failures.map(() => ['SK']));
    expect(failures.map((f) => f.keys.SK.S).sort()).toEqual(toCKeys.sort());
    for (const failure of failures) {
      expect(failure).toMatchObject({
        requestContext: {
          condition: 'RetryAttemptsExhausted',
          approximateInvokeCount: 1 + MAX_RETRY_ATTEMPTS,
        },
        DDBStreamBatchInfo: { batchSize: 1, streamArn: expect.any(String), shardId: expect.any(String) },
      });
      // A sort key only: no NHS number or name in the failure queue.
      for (const child of [c1, c2, c3, c4, c5]) expect(JSON.stringify(failure)).not.toContain(child);
      expect(JSON.stringify(failure)).not.toContain('Lovelace');
    }

    // A and B got theirs (some copies more than once, being after the failure in the batch).
    const toAB = all.filter((m) => m.councilCode !== C).map((m) => m.eventId);
    const deliveredAB = byEventId([
      ...(await service.receiveAll(service.councilQueue(A))),
      ...(await service.receiveAll(service.councilQueue(B))),
    ]);
    expect([...deliveredAB.keys()].sort()).toEqual(toAB.sort());

    // A redrive while C's queue is still missing fails, and keeps the messages for the next one.
    const { redriveDispatchFailures } = await import('../../../cli/redrive');
    const tooEarly = { tableName: service.tableName, queuePrefix: service.queuePrefix };
    expect(await redriveDispatchFailures(tooEarly)).toEqual({
      received: 2,
      redelivered: 0,
      failed: 2,
      missing: 0,
      unreadable: 0,
    });

    // The council's queue is back; `npm run redrive` re-delivers through the real dispatch function.
    await service.ensureCouncilQueues(C);
    const runtimeFile = path.join(mkdtempSync(path.join(tmpdir(), 'redrive-')), 'runtime.json');
    writeFileSync(
      runtimeFile,
      JSON.stringify({
        pid: process.pid,
        url: service.url,
        dynamodbEndpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB,
        sqsEndpoint: fauxqs.endpoint,
        tableName: service.tableName,
        queuePrefix: service.queuePrefix,
      }),
    );
    const { stdout } = await run('npm', ['run', '--silent', 'redrive', '--', '--runtime-file', runtimeFile], {
      timeout: 60_000,
    });
    expect(JSON.parse(stdout.trim())).toEqual({
      mode: 'dispatch-failures',
      received: 2,
      redelivered: 2,
      failed: 0,
      missing: 0,
      unreadable: 0,
    });
    const deliveredC = byEventId(await service.receiveAll(service.councilQueue(C)));
    expect([...deliveredC.keys()].sort()).toEqual([...toC].sort());
    expect([...deliveredC.values()].every((copies) => copies.length === 1)).toBe(true);
    expect(await service.receiveAll(service.failureQueueName)).toEqual([]);
    expect(
      await redriveDispatchFailures({ tableName: service.tableName, queuePrefix: service.queuePrefix }),
    ).toEqual({
      received: 0,
      redelivered: 0,
      failed: 0,
      missing: 0,
      unreadable: 0,
    });

    record('partial-batch', {
      guarantee: 'No lost notifications',
      test: 'partial batch failure (one council queue missing): retried from the first failed record, given up after 1 + maxRetryAttempts, redriven by npm run redrive',
      inputs: 5,
      faultsInjected: ours.filter((invocation) => invocation.failed.length > 0).length,
      outcomes: {
        'notifications expected': all.length,
        'delivered by the poller (distinct eventIds)': deliveredAB.size,
        'copies delivered by the poller': [...deliveredAB.values()].flat().length,
        'sent to the failure queue': failures.length,
        'dispatch invocations per given-up record': 1 + MAX_RETRY_ATTEMPTS,
        'redelivered by npm run redrive': deliveredC.size,
      },
    });
  });

  it('survives the dispatch function crashing after sending part of a batch: every eventId arrives, duplicates are identical', async () => {
    for (const code of [A, B]) await service.receiveAll(service.councilQueue(code)); // start clean
    const children = [0, 1, 2].map((i) => testNhsNumber(63_000 + i * 10));
    for (const child of children) {
      await publishPlan(service, A, child, 'CPP', { startDate: '2026-01-01' });
      await publishPlan(service, B, child, 'CPP', { startDate: '2026-01-01' });
    }
    await service.drained();
    const startedAt = invocations.length;
    // One record per lookup (carrying its messages to A and B): the batch of two dies after the first.
    crash = { remaining: 2, afterSending: 1 };
    await inOneBatch(
      () => lookup(service, children[0] as string),
      async () => {
        for (const child of children.slice(1)) await lookup(service, child);
      },
    );
    await service.drained();
    const crashes = invocations.slice(startedAt).filter((invocation) => invocation.crashed).length;
    crash = undefined;
    expect(crashes).toBe(2);

    const expected = (await carriedMessages(service, children)).map((m) => m.eventId).sort();
    const delivered = [
      ...(await service.receiveAll(service.councilQueue(A))),
      ...(await service.receiveAll(service.councilQueue(B))),
    ];
    const groups = byEventId(delivered);
    expect([...groups.keys()].sort()).toEqual(expected);
    // The records sent before each crash were sent again when the batch was retried.
    expect(delivered.length).toBeGreaterThanOrEqual(expected.length + 2);
    expect(await service.receiveAll(service.failureQueueName, { missingOk: true })).toEqual([]);

    record('crash', {
      guarantee: 'No lost notifications',
      test: 'dispatch function crashing after sending part of a batch: every eventId arrives, duplicates identical',
      inputs: children.length,
      faultsInjected: crashes,
      outcomes: {
        'notifications expected': expected.length,
        'distinct eventIds delivered': groups.size,
        'copies delivered (duplicates carry the same eventId)': delivered.length,
        'sent to the failure queue': 0,
      },
    });
  });

  it('SQS down for longer than the retries: nothing is dropped while the failure queue is down too; after the restart, given-up records are redriven', async () => {
    const children = [0, 1].map((i) => testNhsNumber(64_000 + i * 10));
    for (const child of children) {
      await publishPlan(service, A, child, 'CPP', { startDate: '2026-01-01' });
      await publishPlan(service, B, child, 'LAC', { startDate: '2026-01-01' });
    }
    await service.drained();
    const before = service.streamStats();

    await fauxqs.stop();
    let expected: Awaited<ReturnType<typeof carriedMessages>>;
    try {
      for (const child of children) await lookup(service, child);
      expected = await carriedMessages(service, children);
      // Retries exhausted, and the failure queue is unreachable too: the records stay on the stream.
      await waitFor(
        'the failure queue to be tried while SQS is down',
        () => service.streamStats().failureDestinationErrors > before.failureDestinationErrors,
      );
      // Retried, never given up while there was nowhere to put it.
      for (const message of expected) expect(presentations(message.eventId)).toBeGreaterThanOrEqual(1);
      expect(Math.max(...expected.map((m) => presentations(m.eventId)))).toBeGreaterThan(MAX_RETRY_ATTEMPTS);
      expect(service.streamStats().sentToFailureDestination).toBe(before.sentToFailureDestination);
    } finally {
      // SQS is back, but without the council queues yet: the records are given up to the failure queue.
      await fauxqs.start();
    }
    // One record per lookup, carrying a message to A and one to B.
    const records = new Set(expected.map((m) => m.sortKey)).size;
    expect(records).toBe(children.length);
    await waitFor(
      'the given-up records to reach the failure queue',
      () => service.streamStats().sentToFailureDestination >= before.sentToFailureDestination + records,
    );
    await service.drained();
    // Each was given up only after 1 + maxRetryAttempts failed deliveries.
    for (const message of expected) {
      expect(presentations(message.eventId)).toBeGreaterThanOrEqual(1 + MAX_RETRY_ATTEMPTS);
    }
    for (const code of [A, B, C]) await service.ensureCouncilQueues(code);
    const { redriveDispatchFailures } = await import('../../../cli/redrive');
    const result = await redriveDispatchFailures({
      tableName: service.tableName,
      queuePrefix: service.queuePrefix,
    });
    expect(result).toMatchObject({ redelivered: records, failed: 0, missing: 0, unreadable: 0 });

    const delivered = [
      ...(await service.receiveAll(service.councilQueue(A))),
      ...(await service.receiveAll(service.councilQueue(B))),
    ];
    const groups = byEventId(delivered);
    expect([...groups.keys()].sort()).toEqual(expected.map((m) => m.eventId).sort());
    expect(await service.receiveAll(service.failureQueueName)).toEqual([]);
    const after = service.streamStats();

    record('long-outage', {
      guarantee: 'No lost notifications',
      test: 'SQS down for longer than the retries: held while the failure queue is down, given up after restart, redriven',
      inputs: children.length,
      faultsInjected: 1 + after.failedInvocations - before.failedInvocations,
      outcomes: {
        'notifications expected': expected.length,
        'failure-queue sends refused while SQS was down':
          after.failureDestinationErrors - before.failureDestinationErrors,
        'sent to the failure queue after the restart':
          after.sentToFailureDestination - before.sentToFailureDestination,
        'redelivered by redrive': result.redelivered,
        'distinct eventIds delivered': groups.size,
      },
    });
  });

  it('a council queue dead-letters a message only after maxReceiveCount receives; redrive --council moves it back', async () => {
    const child = testNhsNumber(65_000);
    await service.ensureCouncilQueues(A);
    await service.receiveAll(service.councilQueue(A));
    await publishPlan(service, A, child, 'CPP', { startDate: '2026-01-01' });
    await lookup(service, child);
    await service.drained();
    const queueUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: service.councilQueue(A) })))
      .QueueUrl;
    // A consumer that fails: receives and never deletes.
    let eventId: string | undefined;
    for (let receive = 1; receive <= MAX_RECEIVE_COUNT; receive++) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
      );
      expect(Messages).toHaveLength(1);
      eventId ??= JSON.parse(Messages[0]?.Body as string).eventId;
    }
    const { Messages: afterLimit = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
    );
    expect(afterLimit).toEqual([]);

    const { redriveCouncilDeadLetters } = await import('../../../cli/redrive');
    expect(await redriveCouncilDeadLetters({ queuePrefix: service.queuePrefix, councilCode: A })).toEqual({
      moved: 1,
    });
    const back = await service.receiveAll(service.councilQueue(A));
    expect(back.map((message) => message.eventId)).toEqual([eventId]);
    expect(await service.receiveAll(service.councilDeadLetterQueue(A))).toEqual([]);

    record('council-dlq', {
      guarantee: 'No lost notifications',
      test: 'council queue: dead-lettered only after maxReceiveCount receives; redrive --council moves it back',
      inputs: 1,
      faultsInjected: MAX_RECEIVE_COUNT,
      outcomes: { 'receives before dead-lettering': MAX_RECEIVE_COUNT, 'moved back by redrive --council': 1 },
    });
  });
});
