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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

function message(i: number): CouncilMessage {
  return {
    type: 'ChildRecordAccessed',
    eventId: ulid(),
    occurredAt: new Date().toISOString(),
    councilCode: CONNECTOR_COUNCIL,
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
  stop(): Promise<void>;
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
  child.stderr?.resume();
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** `npm run council:receive -- --follow --json`: the arrival of each printed line. */
function bareReceive(runtimeFile: string): Consumer {
  const arrivals = new Map<string, number>();
  const consumer: Consumer = { arrivals, duplicates: 0, stop: async () => stopChild(child) };
  const child = childProcess(
    ['cli/council-receive.ts', '--council', CONNECTOR_COUNCIL, '--follow', '--json'],
    runtimeFile,
    (line) => {
      const now = performance.now();
      const eventId = (JSON.parse(line) as { body: { eventId: string } }).body.eventId;
      if (arrivals.has(eventId)) consumer.duplicates++;
      else arrivals.set(eventId, now);
    },
  );
  return consumer;
}

/** `npm run council:connect -- --webhook` to a receiver in this process: the arrival of each POST. */
async function connector(ctx: BenchContext, runtimeFile: string, run: number): Promise<Consumer> {
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
      CONNECTOR_COUNCIL,
      '--webhook',
      `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
      '--state',
      path.join(ctx.workDir, `connector-${run}.journal`),
    ],
    runtimeFile,
  );
  return {
    arrivals,
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

async function untilArrived(consumer: Consumer, eventIds: string[]): Promise<number> {
  const deadline = performance.now() + GRACE_MS;
  const missing = () => eventIds.filter((id) => !consumer.arrivals.has(id)).length;
  while (missing() > 0 && performance.now() < deadline) await sleep(5);
  return missing();
}

interface LatencyRun {
  samples: number[];
  lost: number;
  duplicates: number;
}

/** One warm-up message, then `count` messages at `rate` per second, each timed to its arrival. */
async function latency(
  sqs: SQSClient,
  queueUrl: string,
  consumer: Consumer,
  count: number,
  rate: number,
): Promise<LatencyRun> {
  const warmUp = message(-1);
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(warmUp) }));
  if ((await untilArrived(consumer, [warmUp.eventId])) > 0) throw new Error('the consumer never started');
  const sentAt = new Map<string, number>();
  const sends: Promise<unknown>[] = [];
  const t0 = performance.now() + 50;
  for (let i = 0; i < count; i++) {
    await sleep(t0 + (i * 1000) / rate - performance.now());
    const body = message(i);
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
  queueUrl: string,
  count: number,
  start: () => Promise<Consumer>,
): Promise<{ perSecond: number; lost: number; duplicates: number }> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 10) {
    const batch = Array.from({ length: Math.min(10, count - i) }, (_, n) => message(i + n));
    ids.push(...batch.map((body) => body.eventId));
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((body, n) => ({ Id: String(n), MessageBody: JSON.stringify(body) })),
      }),
    );
  }
  const consumer = await start();
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
    await consumer.stop();
  }
}

export const connectorMeasurement: Measurement = {
  id: 'connector',
  title: 'Council connector: queue → web hook, against a bare council:receive read',
  async run(ctx) {
    const quick = ctx.settings.mode === 'quick';
    const drainCount = quick ? 300 : 3_000;
    const latencyCount = quick ? 40 : 400;
    const rate = quick ? 20 : 40;
    const queueUrl = await ctx.server.ensureQueues(CONNECTOR_COUNCIL);
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
    let runs = 0;
    try {
      const bareDrain = await throughput(sqs, queueUrl, drainCount, async () => bareReceive(runtimeFile));
      const connectorDrain = await throughput(sqs, queueUrl, drainCount, () =>
        connector(ctx, runtimeFile, runs++),
      );
      const bare = bareReceive(runtimeFile);
      const bareLatency = await latency(sqs, queueUrl, bare, latencyCount, rate).finally(() => bare.stop());
      const hooked = await connector(ctx, runtimeFile, runs++);
      const hookLatency = await latency(sqs, queueUrl, hooked, latencyCount, rate).finally(() =>
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
        'Connector: both consumers run as their CLIs in their own processes on the same queue; the connector ' +
          'long-polls with its default wait, council:receive --follow with 1 s; latency ends when the web hook ' +
          'receiver (this process) gets the POST, or when council:receive prints the line.',
      );
    } finally {
      sqs.destroy();
    }
  },
};
