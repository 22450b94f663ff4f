/**
 * The service under test, in its own process: startLocalService (HTTP adapter, middy stack, authorizer,
 * handlers, stream poller, dispatch, the web view) on the table and queue prefix the runner names, with the lookup rate
 * limits raised out of the way. Controlled over the IPC channel by bench/lib/server.ts.
 *
 * Expects the runner's environment: AWS endpoints and fake credentials, LOCAL_IDENTITY_ORIGIN (the
 * identity provider the runner started),
 * BENCH_SERVER_TABLE and BENCH_SERVER_QUEUE_PREFIX.
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
  const { startLocalService } = await import('../local/service');
  const { localIssuers } = await import('../local/identity-provider');
  const identityOrigin = process.env.LOCAL_IDENTITY_ORIGIN;
  const cis2 = identityOrigin ? localIssuers(identityOrigin).find((i) => i.kind === 'cis2') : undefined;
  const service = await startLocalService({
    tableName,
    queuePrefix,
    port: 0,
    // The clinician web view at /web/ (web/dist, built by the web-view measure), as `npm start` serves it.
    ...(cis2 ? { webView: { issuer: cis2.issuer } } : {}),
    rateLimits: {
      perCallerPerMinute: 1_000_000_000,
      perUserPerMinute: 1_000_000_000,
      perOrganisationPerMinute: 1_000_000_000,
    },
    onError: (error) => {
      errors++;
      lastError = `${(error as Error).name}: ${(error as Error).message}`;
      console.error('bench server runtime error', error);
    },
  });

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
        service.drained().then(() => reply(null), fail);
        break;
      case 'stats':
        reply(stats());
        break;
      case 'ensureQueues':
        service.ensureCouncilQueues(message.councilCode as string).then(reply, fail);
        break;
      case 'close':
        service.close().then(
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
  send({ type: 'ready', url: service.url, pid: process.pid });
}

main().catch((error) => {
  send({ type: 'failed', message: String((error as Error)?.stack ?? error) });
  setTimeout(() => process.exit(1), 50);
});
