/**
 * The council connector (issue 23, acceptance 3 to 6) against fauxqs, a real HTTP receiver started
 * here and temporary directories: its core in this process, its CLI as a child process (killed with
 * SIGKILL, stopped with SIGINT) and `npm run redrive` for what reached the dead-letter queue.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { type FSWatcher, mkdtempSync, readdirSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { ulid } from 'ulid';
import { JournalDeliveredStore } from '../../functions/connector/delivered-store';
import { DropDirectoryDestination, WebhookDestination } from '../../functions/connector/destinations';
import { type RunnerCounts, runQueue } from '../../functions/connector/queue-runner';
import type { CouncilMessage } from '../../functions/core/schemas';
import { sendToCouncil } from '../../functions/notify/council-queues';
import { councilDeadLetterQueueName, councilQueueName } from '../../functions/notify/queue-names';
import { assertCouncilMessage } from '../../testkit/council-messages';
import { lookupChild, publishPlan, registerCouncil, startTestService, testNhsNumber } from './harness';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const COUNCIL = 'E09000001';
const SECRET = 'a shared secret for the test';

let sqs: SQSClient;
beforeAll(() => {
  sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
});
afterAll(() => sqs.destroy());

const tempDir = (name: string) => mkdtempSync(path.join(tmpdir(), `connector-${name}-`));

/** Until cond holds; a guard against hanging, never an assertion about time. */
async function until(cond: () => boolean | Promise<boolean>, what: string, limitMs = 45_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

interface Queues {
  prefix: string;
  queueUrl: string;
  deadLetterUrl: string;
  runtimeFile: string;
}

/** A council queue and its dead-letter queue as the stacks make them, with a test-sized receive limit. */
async function councilQueues(maxReceiveCount: number, visibilitySeconds: number): Promise<Queues> {
  const prefix = `c${randomBytes(4).toString('hex')}-`;
  const dlq = await sqs.send(
    new CreateQueueCommand({ QueueName: councilDeadLetterQueueName(prefix, COUNCIL) }),
  );
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: councilQueueName(prefix, COUNCIL),
      Attributes: {
        VisibilityTimeout: String(visibilitySeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: Attributes?.QueueArn,
          maxReceiveCount: String(maxReceiveCount),
        }),
      },
    }),
  );
  // What `npm start` writes for the CLIs: here it points them at these queues.
  const runtimeFile = path.join(tempDir('runtime'), 'runtime.json');
  writeFileSync(
    runtimeFile,
    JSON.stringify({
      pid: process.pid,
      url: 'http://127.0.0.1:9',
      dynamodbEndpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB,
      sqsEndpoint: process.env.AWS_ENDPOINT_URL_SQS,
      tableName: 'unused',
      queuePrefix: prefix,
    }),
  );
  return {
    prefix,
    queueUrl: queue.QueueUrl as string,
    deadLetterUrl: dlq.QueueUrl as string,
    runtimeFile,
  };
}

async function queueDepth(queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible)
  );
}

/** Well-formed messages, a second apart, sent as the dispatch function sends them. */
async function sendMessages(queueUrl: string, count: number, from = Date.UTC(2026, 10, 20, 2, 0, 0)) {
  const messages: CouncilMessage[] = [];
  for (let i = 0; i < count; i++) {
    const message: CouncilMessage = {
      type: 'ChildRecordAccessed',
      eventId: ulid(),
      occurredAt: new Date(from + i * 1000).toISOString(),
      councilCode: COUNCIL,
      nhsNumber: testNhsNumber(80_000 + i),
      planTypes: ['CPP'],
      accessedBy: {
        userId: `u${i}`,
        userName: 'Dr Test',
        roleName: null,
        organisation: 'RXX01',
        organisationName: null,
        setting: 'emergency-department',
      },
    };
    await sendToCouncil(queueUrl, message);
    messages.push(message);
  }
  return messages;
}

interface Post {
  eventId: string;
  body: string;
  headers: IncomingMessage['headers'];
  status: number;
}

/** A case system's web hook: `answer` decides each POST's status (and may delay it). */
async function startReceiver(
  answer: (post: Omit<Post, 'status'>, attempt: number) => Promise<number> | number,
) {
  const posts: Post[] = [];
  const attempts = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const eventId = String(request.headers['x-event-id']);
      const attempt = (attempts.get(eventId) ?? 0) + 1;
      attempts.set(eventId, attempt);
      const status = await answer({ eventId, body, headers: request.headers }, attempt);
      posts.push({ eventId, body, headers: request.headers, status });
      if (response.destroyed) return; // the connector gave up waiting: not a delivery
      response.writeHead(status, { 'Content-Type': 'text/plain' }).end(status < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/cp-is`,
    posts,
    /** eventIds answered 2xx, in order (with repeats, if any). */
    accepted: () => posts.filter((post) => post.status < 300).map((post) => post.eventId),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The connector CLI as a child process, with its output lines collected. */
function startCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--no-warnings', '--import', 'tsx', 'cli/council-connect.ts', ...args],
    { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: string[] = [];
  let stderr = '';
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const parts = pending.split('\n');
    pending = parts.pop() as string;
    lines.push(...parts);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, lines, stderr: () => stderr, exited };
}

const expectSignedBy = (post: Post, secret: string) =>
  expect(post.headers['x-signature']).toBe(
    `sha256=${createHmac('sha256', secret).update(post.body).digest('hex')}`,
  );

describe('council connector: web hook', () => {
  it('delivers every message exactly once by eventId to a receiver that refuses the first two attempts of each and is sometimes slow; signed; nothing left queued', async () => {
    const queues = await councilQueues(5, 30);
    const sent = await sendMessages(queues.queueUrl, 24);
    let requests = 0;
    const receiver = await startReceiver(async (_post, attempt) => {
      requests++;
      if (requests % 5 === 0) await sleep(300); // slow, within the timeout
      if (requests % 11 === 0) {
        await sleep(1500); // slower than the connector waits: a failed attempt
        return 503;
      }
      return attempt <= 2 ? 500 : 204;
    });
    const store = await JournalDeliveredStore.open(path.join(tempDir('state'), 'delivered.journal'));
    const stop = new AbortController();
    let counts: RunnerCounts | undefined;
    const running = runQueue({
      sqs,
      queueUrl: queues.queueUrl,
      destination: new WebhookDestination({ url: receiver.url, secret: SECRET, timeoutMs: 1000 }),
      store,
      signal: stop.signal,
      waitSeconds: 1,
      retryBaseSeconds: 0.6,
      retryMaxSeconds: 2,
      onEvent: (_event, latest) => {
        counts = latest;
      },
    });
    try {
      await until(() => new Set(receiver.accepted()).size === sent.length, 'every message accepted');
      await until(async () => (await queueDepth(queues.queueUrl)) === 0, 'the queue to empty');
    } finally {
      stop.abort();
      await running;
      await store.close();
      await receiver.close();
    }
    const accepted = receiver.accepted();
    expect([...accepted].sort()).toEqual(sent.map((message) => message.eventId).sort());
    // Each refused twice before it was taken (or more, when a slow answer timed out).
    for (const message of sent) {
      const tries = receiver.posts.filter((post) => post.eventId === message.eventId);
      expect(tries.length).toBeGreaterThanOrEqual(3);
      expect(tries.slice(0, 2).every((post) => post.status >= 500)).toBe(true);
    }
    for (const post of receiver.posts) {
      expectSignedBy(post, SECRET);
      expect(post.headers['x-signature']).not.toBe(
        `sha256=${createHmac('sha256', 'another secret').update(post.body).digest('hex')}`,
      );
      expect(post.headers['content-type']).toBe('application/json');
      expect(post.headers['x-message-type']).toBe('ChildRecordAccessed');
      const body = JSON.parse(post.body);
      assertCouncilMessage(body);
      expect(body.eventId).toBe(post.eventId);
      expect(body).toEqual(sent.find((message) => message.eventId === post.eventId));
    }
    expect(receiver.posts.some((post) => post.status === 503)).toBe(true); // a timed-out attempt was retried
    expect(counts).toMatchObject({ delivered: sent.length, duplicates: 0, deadLettered: 0 });
    expect(await queueDepth(queues.queueUrl)).toBe(0);
    expect(await queueDepth(queues.deadLetterUrl)).toBe(0);
  });

  it('after SIGKILL mid-deliveries and a restart: nothing lost, and nothing recorded as delivered is delivered again', async () => {
    const queues = await councilQueues(10, 2);
    const sent = await sendMessages(queues.queueUrl, 60);
    const state = path.join(tempDir('state'), 'delivered.journal');
    let cli: ReturnType<typeof startCli> | undefined;
    let journalAtKill: string[] | undefined;
    let killAfter = 25;
    const receiver = await startReceiver((post) => {
      if (receiver.accepted().length + 1 >= killAfter && cli && journalAtKill === undefined) {
        cli.child.kill('SIGKILL');
        // What the killed connector had recorded: each of these must never come again.
        journalAtKill = readFileSync(state, 'utf8')
          .split('\n')
          .slice(0, -1) // a torn last line is not a record
          .filter((line) => / \d+$/.test(line))
          .map((line) => line.split(' ')[0] as string);
        killAfter = Number.POSITIVE_INFINITY;
        return 500;
      }
      void post;
      return 200;
    });
    const args = [
      '--council',
      COUNCIL,
      '--webhook',
      receiver.url,
      '--secret-env',
      'HOOK_SECRET',
      '--state',
      state,
    ];
    const common = ['--runtime-file', queues.runtimeFile, '--wait', '1', '--retry-base', '0'];
    try {
      cli = startCli([...args, ...common], { HOOK_SECRET: SECRET });
      const killed = await cli.exited;
      expect(killed.signal).toBe('SIGKILL');
      const beforeRestart = receiver.accepted().length;
      expect(beforeRestart).toBeGreaterThan(0);
      expect(beforeRestart).toBeLessThan(sent.length);

      cli = startCli([...args, ...common], { HOOK_SECRET: SECRET });
      await until(() => new Set(receiver.accepted()).size === sent.length, 'every message accepted');
      await until(async () => (await queueDepth(queues.queueUrl)) === 0, 'the queue to empty');
      cli.child.kill('SIGINT');
      const stopped = await cli.exited;
      expect(stopped).toEqual({ code: 0, signal: null });
      expect(cli.lines.at(-1)).toMatch(/^Stopped: delivered \d+, already delivered \d+, failed attempts \d+/);
      expect(cli.stderr()).toBe('');

      const accepted = receiver.accepted();
      expect([...new Set(accepted)].sort()).toEqual(sent.map((message) => message.eventId).sort());
      // Recorded before the kill: never delivered again.
      const recorded = new Set(journalAtKill);
      expect(recorded.size).toBeGreaterThan(0);
      for (const eventId of recorded) expect(accepted.filter((id) => id === eventId)).toHaveLength(1);
      // The only repeats: answered 2xx in the batch in hand, between delivery and record (at most one batch).
      const repeats = accepted.filter((id, i) => accepted.indexOf(id) !== i);
      for (const eventId of repeats) expect(recorded.has(eventId)).toBe(false);
      expect(repeats.length).toBeLessThanOrEqual(10);
      for (const post of receiver.posts) expectSignedBy(post, SECRET);

      // Copies of delivered messages come back (as a redrive or SQS's redelivery would bring them) to
      // a third run: remembered from the journal, deleted, not delivered.
      const postsBefore = receiver.posts.length;
      const again = sent.slice(0, 5);
      for (const message of again) await sendToCouncil(queues.queueUrl, message);
      cli = startCli([...args, ...common], { HOOK_SECRET: SECRET });
      await until(
        () => cli?.lines.some((line) => line.includes('already delivered 5')) ?? false,
        'the copies',
      );
      await until(async () => (await queueDepth(queues.queueUrl)) === 0, 'the queue to empty');
      cli.child.kill('SIGINT');
      expect(await cli.exited).toEqual({ code: 0, signal: null });
      expect(cli.lines.at(-1)).toBe(
        'Stopped: delivered 0, already delivered 5, failed attempts 0, sent to the dead-letter queue 0',
      );
      expect(receiver.posts.length).toBe(postsBefore);
    } finally {
      if (cli && cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
      await receiver.close();
    }
  });

  it('a message the receiver always refuses reaches the dead-letter queue after the receive limit, the connector says so, and redrive brings it back', async () => {
    const queues = await councilQueues(3, 30);
    const [refused, ...others] = await sendMessages(queues.queueUrl, 4);
    const receiver = await startReceiver((post) => (post.eventId === refused?.eventId ? 422 : 200));
    const cli = startCli([
      '--council',
      COUNCIL,
      '--webhook',
      receiver.url,
      '--state',
      path.join(tempDir('state'), 'delivered.journal'),
      '--runtime-file',
      queues.runtimeFile,
      '--wait',
      '1',
      '--retry-base',
      '0',
    ]);
    try {
      await until(
        () => cli.lines.some((line) => line.includes('failed its last attempt')),
        'the last attempt',
      );
      await until(async () => (await queueDepth(queues.deadLetterUrl)) === 1, 'the dead-letter queue');
      cli.child.kill('SIGINT');
      expect(await cli.exited).toEqual({ code: 0, signal: null });
    } finally {
      if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
      await receiver.close();
    }
    expect(cli.lines[0]).toMatch(
      new RegExp(
        `receive limit is 3 \\(dead-letter queue ${councilDeadLetterQueueName(queues.prefix, COUNCIL)}\\)`,
      ),
    );
    expect(cli.lines.filter((line) => line.startsWith(`Message ${refused?.eventId} not delivered`))).toEqual([
      `Message ${refused?.eventId} not delivered (attempt 1): webhook answered 422; retrying in 0 s`,
      `Message ${refused?.eventId} not delivered (attempt 2): webhook answered 422; retrying in 0 s`,
    ]);
    expect(cli.lines).toContain(
      `Message ${refused?.eventId} failed its last attempt (3 of the queue's limit): webhook answered 422. ` +
        `SQS moves it to the dead-letter queue; once the receiver is mended, bring it back with npm run redrive -- --council ${COUNCIL}.`,
    );
    expect(cli.lines.at(-1)).toMatch(/sent to the dead-letter queue 1$/);
    expect(new Set(receiver.accepted())).toEqual(new Set(others.map((message) => message.eventId)));
    expect(await queueDepth(queues.queueUrl)).toBe(0);

    const { stdout } = await promisify(execFile)(
      'npm',
      ['run', '--silent', 'redrive', '--', '--council', COUNCIL, '--runtime-file', queues.runtimeFile],
      { cwd: ROOT, timeout: 60_000 },
    );
    expect(JSON.parse(stdout.trim())).toEqual({ mode: 'council-dead-letters', council: COUNCIL, moved: 1 });
    // Redriven messages reach the queue asynchronously: receive until it arrives (or the wait gives up).
    const redriven: unknown[] = [];
    await until(async () => {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queues.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      redriven.push(...Messages.map((message) => JSON.parse(message.Body as string)));
      return redriven.length > 0;
    }, 'the redriven message');
    expect(redriven).toEqual([refused]);
    expect(await queueDepth(queues.deadLetterUrl)).toBe(0);
  });
});

describe('council connector: drop directory', () => {
  it('writes one complete JSON file per real notification, never a partial file under a final name; names unique and time-sortable', async () => {
    const service = await startTestService({ tablePrefix: 'connector' });
    const directory = tempDir('drop');
    const store = await JournalDeliveredStore.open(path.join(tempDir('state'), 'delivered.journal'));
    const stop = new AbortController();
    const seen = new Map<string, string>();
    let watching = true;
    let watcherEvents: string[] = [];
    let directoryWatcher: FSWatcher | undefined;
    try {
      await registerCouncil(service, COUNCIL);
      const children = Array.from({ length: 12 }, (_, i) => testNhsNumber(81_000 + i));
      for (const child of children)
        await publishPlan(service, COUNCIL, child, 'CPP', { startDate: '2026-01-01' });
      for (const child of children) expect((await lookupChild(service, child)).status).toBe(200);
      await service.drained();
      const queueUrl = await service.ensureCouncilQueues(COUNCIL);
      // A collector's view, read as often as it can while the connector writes: every *.json complete.
      const watcher = (async () => {
        while (watching) {
          for (const name of readdirSync(directory).filter((entry) => entry.endsWith('.json'))) {
            const text = readFileSync(path.join(directory, name), 'utf8');
            expect(() => JSON.parse(text)).not.toThrow();
            seen.set(name, text);
          }
          await sleep(1);
        }
      })();
      // The order names appear in (inotify): each final name must first exist as a temporary one.
      watcherEvents = [];
      directoryWatcher = watch(directory, (_event, name) => {
        if (name) watcherEvents.push(String(name));
      });
      const running = runQueue({
        sqs,
        queueUrl,
        destination: new DropDirectoryDestination(directory),
        store,
        signal: stop.signal,
        waitSeconds: 1,
      });
      await until(
        () => readdirSync(directory).filter((name) => name.endsWith('.json')).length === 12,
        '12 files',
      );
      stop.abort();
      await running;
      watching = false;
      await watcher;
      expect(await queueDepth(queueUrl)).toBe(0);
    } finally {
      watching = false;
      directoryWatcher?.close();
      stop.abort();
      await store.close();
      await service.close();
    }
    const names = readdirSync(directory);
    expect(names).toHaveLength(12);
    expect(names.every((name) => /^\d{8}T\d{9}Z-[0-9A-Z]{26}\.json$/.test(name))).toBe(true);
    const messages = names.map((name) => JSON.parse(readFileSync(path.join(directory, name), 'utf8')));
    for (const [i, message] of messages.entries()) {
      assertCouncilMessage(message);
      expect(names[i]).toBe(`${message.occurredAt.replace(/[-:.]/g, '')}-${message.eventId}.json`);
    }
    expect(new Set(messages.map((message) => message.eventId)).size).toBe(12);
    const byTime = [...messages].sort((a, b) =>
      `${a.occurredAt}${a.eventId}`.localeCompare(`${b.occurredAt}${b.eventId}`),
    );
    expect([...names].sort()).toEqual(
      byTime.map((message) => `${message.occurredAt.replace(/[-:.]/g, '')}-${message.eventId}.json`),
    );
    expect(seen.size).toBeGreaterThan(0);
    for (const name of names) {
      const firstFinal = watcherEvents.indexOf(name);
      const firstTemporary = watcherEvents.findIndex(
        (event) => event.startsWith(`.${name}.`) && event.endsWith('.tmp'),
      );
      expect(firstTemporary).toBeGreaterThanOrEqual(0);
      expect(firstTemporary).toBeLessThan(firstFinal);
    }
  });

  it('killed with SIGKILL mid-writes and started again: exactly one file per message, no temporary file left', async () => {
    const queues = await councilQueues(10, 2);
    const sent = await sendMessages(queues.queueUrl, 60);
    const directory = tempDir('drop');
    const args = [
      '--council',
      COUNCIL,
      '--dir',
      directory,
      '--state',
      path.join(tempDir('state'), 'delivered.journal'),
      '--runtime-file',
      queues.runtimeFile,
      '--wait',
      '1',
    ];
    const files = () => readdirSync(directory).filter((name) => name.endsWith('.json'));
    let cli = startCli(args);
    try {
      await until(() => files().length >= 20, '20 files');
      cli.child.kill('SIGKILL');
      expect((await cli.exited).signal).toBe('SIGKILL');
      expect(files().length).toBeLessThan(sent.length);
      cli = startCli(args);
      await until(() => files().length === sent.length, 'every file');
      await until(async () => (await queueDepth(queues.queueUrl)) === 0, 'the queue to empty');
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toEqual({ code: 0, signal: null });
    } finally {
      if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
    }
    expect(readdirSync(directory).sort()).toEqual(
      sent.map((message) => `${message.occurredAt.replace(/[-:.]/g, '')}-${message.eventId}.json`).sort(),
    );
    for (const message of sent) {
      const name = `${message.occurredAt.replace(/[-:.]/g, '')}-${message.eventId}.json`;
      expect(JSON.parse(readFileSync(path.join(directory, name), 'utf8'))).toEqual(message);
    }
  });
});

describe('council connector CLI', () => {
  it('answers --help with its usage, and refuses a webhook without a secret value or both destinations', async () => {
    const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      promisify(execFile)(
        process.execPath,
        ['--no-warnings', '--import', 'tsx', 'cli/council-connect.ts', ...args],
        {
          cwd: ROOT,
          env: { ...process.env, ...env },
        },
      ).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--council', '--webhook', '--secret-env', '--dir', '--state'])
      expect(help.stdout).toContain(flag);
    const both = await run(['--council', COUNCIL, '--webhook', 'http://127.0.0.1:1/', '--dir', '.']);
    expect(both).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^Give exactly one of --webhook URL and --dir DIR\n/),
    });
    const unset = await run([
      '--council',
      COUNCIL,
      '--webhook',
      'http://127.0.0.1:1/',
      '--secret-env',
      'NO_SUCH_SECRET_VAR',
    ]);
    expect(unset).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(
        /^--secret-env NO_SUCH_SECRET_VAR: the environment variable NO_SUCH_SECRET_VAR is not set or empty\n/,
      ),
    });
  });
});
