/**
 * Notification latency: a notifying lookup of a child with a plan, until the council's system receives
 * the ChildRecordAccessed message from its queue. Lookups are sent at a steady rate (open loop: each at
 * its scheduled time, whether or not earlier ones have answered), each for a different child, so every
 * message is matched to its lookup by NHS number. Receivers long-poll the queue as a council system
 * would. Latency = message received − lookup request sent, on this process's clock.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { benchNhsNumber } from '../../testkit/nhs-numbers';
import { seedPlans } from '../../testkit/seed';
import { longLivedToken } from '../../testkit/tokens';
import { clinicianClaims } from '../lib/callers';
import { measureMachine } from '../lib/machine';
import { SEED_RANGES } from '../lib/nhs';
import { registerCouncils } from '../lib/seed';
import { round, summarize } from '../lib/stats';
import type { Measurement } from '../lib/types';

export const NOTIFY_COUNCIL = 'BENCHNTF';
const RECEIVERS = 3;
/** How long to wait for the last messages after the last lookup was sent. */
const GRACE_MS = 30_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

export const notifyMeasurement: Measurement = {
  id: 'notify',
  title: 'Notifying lookup → message received from the council queue',
  async run(ctx) {
    const { notifyLookups: total, notifyRatePerSecond: rate } = ctx.settings;
    await registerCouncils(ctx.server.url, [NOTIFY_COUNCIL]);
    await seedPlans(ctx.server.tableName, {
      start: SEED_RANGES.notify,
      count: total,
      councils: [NOTIFY_COUNCIL],
    });
    await ctx.server.drained();

    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
    const { QueueUrl } = await sqs.send(
      new GetQueueUrlCommand({ QueueName: `${ctx.server.queuePrefix}${NOTIFY_COUNCIL}` }),
    );
    const token = await longLivedToken(clinicianClaims(['B0107']));
    const index = new Map<string, number>();
    for (let i = 0; i < total; i++) index.set(benchNhsNumber(SEED_RANGES.notify + i), i);
    const sentAt = new Array<number>(total);
    const answeredAt = new Array<number>(total);
    const receivedAt = new Array<number>(total);
    let received = 0;
    let duplicates = 0;
    let strays = 0;
    let failures = 0;
    const networkFailures = new Set<number>();
    let firstNetworkFailure: string | undefined;
    let firstFailure: string | undefined;
    let receiving = true;

    const receiver = async () => {
      while (receiving) {
        const result = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        const now = performance.now();
        const messages = result.Messages ?? [];
        for (const message of messages) {
          const body = JSON.parse(message.Body ?? '{}') as { nhsNumber?: string; type?: string };
          const i = body.nhsNumber === undefined ? undefined : index.get(body.nhsNumber);
          if (i === undefined || body.type !== 'ChildRecordAccessed') strays++;
          else if (receivedAt[i] !== undefined) duplicates++;
          else {
            receivedAt[i] = now;
            received++;
          }
        }
        if (messages.length > 0) {
          await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl,
              Entries: messages.map((message, n) => ({
                Id: String(n),
                ReceiptHandle: message.ReceiptHandle,
              })),
            }),
          );
        }
      }
    };
    const receivers = Array.from({ length: RECEIVERS }, receiver);

    const machine = measureMachine();
    const lookups: Promise<void>[] = [];
    const t0 = performance.now() + 200;
    for (let i = 0; i < total; i++) {
      await sleep(t0 + (i * 1000) / rate - performance.now());
      const nhsNumber = benchNhsNumber(SEED_RANGES.notify + i);
      sentAt[i] = performance.now();
      lookups.push(
        fetch(`${ctx.server.url}/v1/children/${nhsNumber}`, {
          headers: { Authorization: `Bearer ${token}` },
        }).then(
          async (response) => {
            await response.arrayBuffer();
            answeredAt[i] = performance.now();
            if (response.status !== 200) {
              failures++;
              firstFailure ??= `${nhsNumber}: ${response.status}`;
            }
          },
          (error) => {
            // The request may never have reached the service (e.g. a kept-alive socket it had just
            // closed): leave this lookup out, unless its message turns up anyway.
            networkFailures.add(i);
            firstNetworkFailure ??= `${String(error)} (${String((error as { cause?: unknown }).cause)})`;
          },
        ),
      );
    }
    const lastSent = performance.now();
    await Promise.all(lookups);
    const expected = () => total - [...networkFailures].filter((i) => receivedAt[i] === undefined).length;
    while (received < expected() && performance.now() - lastSent < GRACE_MS) await sleep(50);
    receiving = false;
    await Promise.all(receivers);
    const load = machine();
    sqs.destroy();
    if (failures > 0) throw new Error(`${failures} lookups failed; first: ${firstFailure}`);
    if (networkFailures.size > total / 100) {
      throw new Error(`${networkFailures.size} lookups failed to connect; first: ${firstNetworkFailure}`);
    }

    const endToEnd: number[] = [];
    const afterAnswer: number[] = [];
    const lookupLatency: number[] = [];
    for (let i = 0; i < total; i++) {
      if (answeredAt[i] !== undefined) lookupLatency.push((answeredAt[i] as number) - (sentAt[i] as number));
      if (receivedAt[i] === undefined || answeredAt[i] === undefined) continue;
      endToEnd.push((receivedAt[i] as number) - (sentAt[i] as number));
      afterAnswer.push((receivedAt[i] as number) - (answeredAt[i] as number));
    }
    const summary = summarize(endToEnd);
    const details = {
      lookups: total,
      ratePerSecond: rate,
      achievedRatePerSecond: round(total / ((lastSent - t0) / 1000), 1),
      received,
      lost: expected() - received,
      lookupsNotSent: networkFailures.size,
      firstNetworkFailure,
      duplicates,
      strays,
      endToEnd: summary,
      afterLookupAnswered: summarize(afterAnswer),
      lookupResponse: summarize(lookupLatency),
      receivers: RECEIVERS,
      machine: load,
    };
    const label = `lookup → message received (${total} lookups at ${rate}/s)`;
    ctx.record({ id: 'notify.p50', label: `${label}: p50`, unit: 'ms', value: summary.p50, details });
    ctx.record({
      id: 'notify.p95',
      label: `${label}: p95`,
      unit: 'ms',
      value: summary.p95,
      target: { kind: 'value', op: '<=', limit: 250 },
    });
    ctx.record({ id: 'notify.p99', label: `${label}: p99`, unit: 'ms', value: summary.p99 });
    ctx.record({
      id: 'notify.lost',
      label: `${label}: messages not received within ${GRACE_MS / 1000} s`,
      unit: 'messages',
      value: expected() - received,
      target: { kind: 'value', op: '<=', limit: 0 },
    });
    ctx.note(
      `Notify: latency runs from sending the lookup to a council receiver's ReceiveMessage returning the message ` +
        `(${RECEIVERS} receivers long-polling with WaitTimeSeconds 1). The local stream poller waits 50 ms after a pass ` +
        'that read less than a full batch; deployed, Lambda polls the stream itself (typically a few hundred ms).',
    );
  },
};
