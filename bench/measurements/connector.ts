/**
 * The council connector (`npm run council:connect`, as a council runs it: its own process) handing
 * messages from a council queue to a web hook receiver in this process, against the bare read of the
 * same queue by `npm run council:receive -- --follow --json` in the same run:
 * - throughput: a queue filled beforehand, drained; deliveries per second from the first to the last;
 * - latency: messages sent at a steady rate (open loop) while the consumer runs; message sent (this
 *   process's clock) until the receiver got the POST, or until council:receive printed its line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ulid } from 'ulid';
import type { CouncilMessage } from '../../functions/core/schemas';
import { REPO_ROOT } from '../lib/child';
import { round, summarize } from '../lib/stats';
import type { BenchContext, Measurement } from '../lib/types';

export const CONNECTOR_COUNCIL = 'BENCHCON';
const GRACE_MS = 30_000;
const START_GRACE_MS = 120_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

function message(i: number, council: string): CouncilMessage {
  return {
    type: 'ChildRecordAccessed',
    eventId: ulid(),
    occurredAt: new Date().toISOString(),
    councilCode: council,
    nhsNumber: '9990000018',
    planTypes: ['CPP'],
    accessedBy: {
      userId: `bench-${i}`,
      userName: 'Bench Clinician',
      roleName: null,
      organisation: 'RXX01',
      organisationName: null,
      setting: 'emergency-department',
    },
  };
}

/** A consumer process and the time each eventId reached this process from it. */
interface Consumer {
  arrivals: Map<string, number>;
  duplicates: number;
  /** Why the process is gone (its exit and last lines of stderr), once it has exited. */
  exited(): string | undefined;
  stop(): Promise<void>;
}

/** What a consumer process said before it exited, for a failure message. */
function exitWatch(child: ChildProcess): () => string | undefined {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  return () =>
    child.exitCode === null && child.signalCode === null
      ? undefined
      : `exited (${child.exitCode ?? child.signalCode}): ${stderr.trim() || 'nothing on stderr'}`;
}

function childProcess(args: string[], runtimeFile: string, onLine?: (line: string) => void): ChildProcess {
  const child = spawn(process.execPath, ['--no-warnings', '--import', 'tsx', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOCAL_RUNTIME_FILE: runtimeFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() as string;
    for (const line of lines) onLine?.(line);
  });
  return child;
}

/**
 * Stops a consumer once its part's messages have all arrived: SIGINT, and a second one after 1.5 s, on
 * which the connector stops at once instead of finishing its long poll (up to 20 s). Nothing is lost:
 * the part's queue is its own and empty.
 */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGINT');
  const again = setTimeout(() => child.kill('SIGINT'), 1_500);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(again);
  clearTimeout(timer);
}

/** `npm run council:receive -- --follow --json`: the arrival of each printed line. */
function bareReceive(runtimeFile: string, council: string): Consumer {
  const arrivals = new Map<string, number>();
  const consumer: Consumer = {
    arrivals,
    duplicates: 0,
    exited: () => watch(),
    stop: async () => stopChild(child),
  };
  const child = childProcess(
    ['cli/council-receive.ts', '--council', council, '--follow', '--json'],
    runtimeFile,
    (line) => {
      const now = performance.now();
      const eventId = (JSON.parse(line) as { body: { eventId: string } }).body.eventId;
      if (arrivals.has(eventId)) consumer.duplicates++;
      else arrivals.set(eventId, now);
    },
  );
  const watch = exitWatch(child);
  return consumer;
}

/** `npm run council:connect -- --webhook` to a receiver in this process: the arrival of each POST. */
async function connector(ctx: BenchContext, runtimeFile: string, council: string): Promise<Consumer> {
  const arrivals = new Map<string, number>();
  let duplicates = 0;
  const server = createServer((request, response) => {
    const eventId = String(request.headers['x-event-id']);
    request.resume();
    request.on('end', () => {
      if (arrivals.has(eventId)) duplicates++;
      else arrivals.set(eventId, performance.now());
      response.writeHead(204).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const child = childProcess(
    [
      'cli/council-connect.ts',
      '--council',
      council,
      '--webhook',
      `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
      '--state',
      path.join(ctx.workDir, `connector-${council}.journal`),
    ],
    runtimeFile,
  );
  const watch = exitWatch(child);
  return {
    arrivals,
    exited: watch,
    get duplicates() {
      return duplicates;
    },
    async stop() {
      await stopChild(child);
      server.closeAllConnections();
      server.close();
    },
  };
}

async function untilArrived(consumer: Consumer, eventIds: string[], graceMs = GRACE_MS): Promise<number> {
  const deadline = performance.now() + graceMs;
  const missing = () => eventIds.filter((id) => !consumer.arrivals.has(id)).length;
  while (missing() > 0 && performance.now() < deadline) {
    const gone = consumer.exited();
    if (gone) throw new Error(`the consumer ${gone}`);
    await sleep(5);
  }
  return missing();
}

/**
 * One part of the measure on a council queue of its own. A consumer stopped while it long-polls leaves
 * its receive waiting in the queue (fauxqs, like SQS, does not drop it when the client goes): it takes
 * the next message sent within its wait (the connector's: 20 s) and hides it for the visibility timeout
 * (180 s), so the next part's consumer on the same queue would not see it.
 */
interface Phase {
  council: string;
  queueUrl: string;
}

interface LatencyRun {
  samples: number[];
  lost: number;
  duplicates: number;
}

/** One warm-up message, then `count` messages at `rate` per second, each timed to its arrival. */
async function latency(
  sqs: SQSClient,
  phase: Phase,
  consumer: Consumer,
  count: number,
  rate: number,
): Promise<LatencyRun> {
  const { council, queueUrl } = phase;
  const warmUp = message(-1, council);
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(warmUp) }));
  // A process starting under tsx on a busy machine can take a while: its first message gets longer.
  if ((await untilArrived(consumer, [warmUp.eventId], START_GRACE_MS)) > 0)
    throw new Error(`the consumer never started (no message within ${START_GRACE_MS / 1000} s)`);
  const sentAt = new Map<string, number>();
  const sends: Promise<unknown>[] = [];
  const t0 = performance.now() + 50;
  for (let i = 0; i < count; i++) {
    await sleep(t0 + (i * 1000) / rate - performance.now());
    const body = message(i, council);
    sentAt.set(body.eventId, performance.now());
    sends.push(sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) })));
  }
  await Promise.all(sends);
  const lost = await untilArrived(consumer, [...sentAt.keys()]);
  const samples = [...sentAt].flatMap(([id, sent]) => {
    const arrived = consumer.arrivals.get(id);
    return arrived === undefined ? [] : [arrived - sent];
  });
  return { samples, lost, duplicates: consumer.duplicates };
}

/** Fills the queue, then drains it: arrivals per second from the first arrival to the last. */
async function throughput(
  sqs: SQSClient,
  phase: Phase,
  count: number,
  start: (council: string) => Promise<Consumer>,
  release: (consumer: Consumer) => void,
): Promise<{ perSecond: number; lost: number; duplicates: number }> {
  const { council, queueUrl } = phase;
  const ids: string[] = [];
  for (let i = 0; i < count; i += 10) {
    const batch = Array.from({ length: Math.min(10, count - i) }, (_, n) => message(i + n, council));
    ids.push(...batch.map((body) => body.eventId));
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((body, n) => ({ Id: String(n), MessageBody: JSON.stringify(body) })),
      }),
    );
  }
  const consumer = await start(council);
  try {
    const lost = await untilArrived(consumer, ids);
    const times = ids.flatMap((id) => consumer.arrivals.get(id) ?? []).sort((a, b) => a - b);
    const seconds = ((times.at(-1) ?? 0) - (times[0] ?? 0)) / 1000;
    return {
      perSecond: seconds > 0 ? (times.length - 1) / seconds : 0,
      lost,
      duplicates: consumer.duplicates,
    };
  } finally {
    release(consumer);
  }
}

export const connectorMeasurement: Measurement = {
  id: 'connector',
  title: 'Council connector: queue → web hook, against a bare council:receive read',
  async run(ctx) {
    const quick = ctx.settings.mode === 'quick';
    const drainCount = quick ? 150 : 3_000;
    const latencyCount = quick ? 20 : 400;
    const rate = 40;
    const phase = async (n: number): Promise<Phase> => {
      const council = `${CONNECTOR_COUNCIL}${n}`;
      return { council, queueUrl: await ctx.server.ensureQueues(council) };
    };
    const runtimeFile = path.join(ctx.workDir, 'connector-runtime.json');
    await writeFile(
      runtimeFile,
      JSON.stringify({
        pid: ctx.server.pid,
        url: ctx.server.url,
        dynamodbEndpoint: ctx.endpoints.dynamodb,
        sqsEndpoint: ctx.endpoints.sqs,
        tableName: ctx.server.tableName,
        queuePrefix: ctx.server.queuePrefix,
      }),
    );
    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
    // A part's consumer is stopped while the next part's starts (untimed, on a queue of its own):
    // council:receive ends its 1 s poll before it exits.
    const stopping: Promise<void>[] = [];
    const release = (consumer: Consumer) => {
      stopping.push(consumer.stop());
    };
    try {
      const bareDrain = await throughput(
        sqs,
        await phase(1),
        drainCount,
        async (council) => bareReceive(runtimeFile, council),
        release,
      );
      const connectorDrain = await throughput(
        sqs,
        await phase(2),
        drainCount,
        (council) => connector(ctx, runtimeFile, council),
        release,
      );
      const bareQueue = await phase(3);
      const bare = bareReceive(runtimeFile, bareQueue.council);
      const bareLatency = await latency(sqs, bareQueue, bare, latencyCount, rate).finally(() =>
        release(bare),
      );
      const hookQueue = await phase(4);
      const hooked = await connector(ctx, runtimeFile, hookQueue.council);
      const hookLatency = await latency(sqs, hookQueue, hooked, latencyCount, rate).finally(() =>
        hooked.stop(),
      );
      const bareSummary = summarize(bareLatency.samples);
      const hookSummary = summarize(hookLatency.samples);
      ctx.record({
        id: 'connector.throughput',
        label: `connector → web hook, ${drainCount} queued messages: deliveries per second`,
        unit: 'messages/s',
        value: round(connectorDrain.perSecond, 1),
        baseline: { label: 'council:receive drain', value: round(bareDrain.perSecond, 1) },
        target: { kind: 'value', op: '>=', limit: 200 },
        details: { connector: connectorDrain, bare: bareDrain },
      });
      ctx.record({
        id: 'connector.p95',
        label: `message sent → delivered to the web hook (${latencyCount} at ${rate}/s): p95`,
        unit: 'ms',
        value: hookSummary.p95,
        baseline: { label: 'council:receive printed it: p95', value: bareSummary.p95 },
        target: { kind: 'ratio', op: '<=', limit: 1.5 },
        details: { connector: hookSummary, bare: bareSummary },
      });
      ctx.record({
        id: 'connector.lost-or-repeated',
        label: 'connector: messages not delivered, or delivered twice',
        unit: 'messages',
        value: connectorDrain.lost + connectorDrain.duplicates + hookLatency.lost + hookLatency.duplicates,
        target: { kind: 'value', op: '<=', limit: 0 },
      });
      ctx.note(
        'Connector: both consumers run as their CLIs in their own processes, each part (drain, latency) of ' +
          "each on a council queue of its own: a stopped consumer's pending long poll would take the next " +
          "part's first message. The connector long-polls with its default wait, council:receive --follow " +
          'with 1 s; latency ends when the web hook receiver (this process) gets the POST, or when ' +
          'council:receive prints the line.',
      );
    } finally {
      await Promise.all(stopping);
      sqs.destroy();
    }
  },
};
