/**
 * The service under test, in two processes as deployed it is in separate functions, on the table and
 * queue prefix the runner names. Role `api` (BENCH_SERVER_ROLE): startLocalService without its stream
 * poller (HTTP adapter, middy stack, authorizer, handlers, the web view), with the lookup rate limits
 * raised out of the way. Role `dispatch`: the stream poller feeding the dispatch function. Controlled
 * over the IPC channel by bench/lib/server.ts.
 *
 * Expects the runner's environment: AWS endpoints and fake credentials, LOCAL_IDENTITY_ORIGIN (the
 * identity provider the runner started), BENCH_SERVER_TABLE and BENCH_SERVER_QUEUE_PREFIX.
 */
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import type { ServerReply, ServerRequest, ServerStats } from './lib/server-protocol';

const send = (message: unknown) => process.send?.(message);
let errors = 0;
let lastError: string | undefined;

// Where a latency tail comes from: a stalled event loop (long synchronous work, GC) or elsewhere.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
let gcMaxPauseMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMaxPauseMs = Math.max(gcMaxPauseMs, entry.duration);
}).observe({ entryTypes: ['gc'] });

function stats(): ServerStats {
  const usage = process.resourceUsage();
  const loop = { eventLoopMaxDelayMs: loopDelay.max / 1e6, gcMaxPauseMs };
  loopDelay.reset();
  gcMaxPauseMs = 0;
  return {
    ...loop,
    pid: process.pid,
    maxRssBytes: usage.maxRSS * 1024,
    rssBytes: process.memoryUsage().rss,
    cpuUserMs: usage.userCPUTime / 1000,
    cpuSystemMs: usage.systemCPUTime / 1000,
    runtimeErrors: errors,
    lastError,
  };
}

async function main(): Promise<void> {
  const tableName = process.env.BENCH_SERVER_TABLE;
  const queuePrefix = process.env.BENCH_SERVER_QUEUE_PREFIX;
  if (!tableName || !queuePrefix)
    throw new Error('BENCH_SERVER_TABLE and BENCH_SERVER_QUEUE_PREFIX must be set');
  const onError = (error: unknown) => {
    errors++;
    lastError = `${(error as Error).name}: ${(error as Error).message}`;
    console.error('bench server runtime error', error);
  };
  const { startLocalDispatch, startLocalService } = await import('../local/service');
  if (process.env.BENCH_SERVER_ROLE === 'dispatch') {
    const dispatch = await startLocalDispatch({ tableName, queuePrefix, onError });
    serve({ drained: () => dispatch.drained(), close: () => dispatch.close() });
    return;
  }
  const { localIssuers } = await import('../local/identity-provider');
  const identityOrigin = process.env.LOCAL_IDENTITY_ORIGIN;
  const cis2 = identityOrigin ? localIssuers(identityOrigin).find((i) => i.kind === 'cis2') : undefined;
  const service = await startLocalService({
    tableName,
    queuePrefix,
    port: 0,
    dispatch: false,
    // The clinician web view at /web/ (web/dist, built by the web-view measure), as `npm start` serves it.
    ...(cis2 ? { webView: { issuer: cis2.issuer } } : {}),
    rateLimits: {
      perCallerPerMinute: 1_000_000_000,
      perUserPerMinute: 1_000_000_000,
      perOrganisationPerMinute: 1_000_000_000,
    },
    onError,
  });
  serve({
    url: service.url,
    ensureQueues: (councilCode) => service.ensureCouncilQueues(councilCode),
    close: () => service.close(),
  });
}

/** Answers the runner's requests; a role answers only those it serves. */
function serve(role: {
  url?: string;
  drained?: () => Promise<void>;
  ensureQueues?: (councilCode: string) => Promise<string>;
  close: () => Promise<void>;
}): void {
  process.on('message', (message: ServerRequest) => {
    const reply = (value: unknown) => send({ id: message.id, ok: true, value } satisfies ServerReply);
    const fail = (error: unknown) =>
      send({
        id: message.id,
        ok: false,
        error: String((error as Error)?.stack ?? error),
      } satisfies ServerReply);
    switch (message.cmd) {
      case 'drained':
        if (!role.drained) fail(new Error('this process runs no stream poller'));
        else role.drained().then(() => reply(null), fail);
        break;
      case 'stats':
        reply(stats());
        break;
      case 'ensureQueues':
        if (!role.ensureQueues) fail(new Error('this process serves no API'));
        else role.ensureQueues(message.councilCode as string).then(reply, fail);
        break;
      case 'close':
        role.close().then(
          () => {
            reply(stats());
            // Exit through process.exit so --cpu-prof writes its profile.
            setTimeout(() => process.exit(0), 50);
          },
          (error) => {
            fail(error);
            setTimeout(() => process.exit(1), 50);
          },
        );
        break;
      default:
        fail(new Error(`unknown command ${String((message as { cmd?: unknown }).cmd)}`));
    }
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', url: role.url, pid: process.pid });
}

main().catch((error) => {
  send({ type: 'failed', message: String((error as Error)?.stack ?? error) });
  setTimeout(() => process.exit(1), 50);
});
