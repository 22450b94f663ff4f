/**
 * Load at a fixed concurrency for a fixed time, measured the same way on both sides of a comparison:
 * `closedLoop` for in-process operations (the direct SDK baselines), `httpLoad` (autocannon) for the
 * service. Latency samples are kept at full resolution (autocannon's own histogram rounds to whole ms).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import autocannon from 'autocannon';

export interface LoadSample {
  /** Completed operations (2xx responses for HTTP). */
  count: number;
  elapsedMs: number;
  latencies: number[];
  errors: number;
  firstError?: string;
  /** HTTP only: responses by status code. */
  statusCodes?: Record<string, number>;
  /** The longest stall of the measuring process's event loop meanwhile (ms): it adds to latencies. */
  loopMaxDelayMs?: number;
  /** The five slowest operations: when they started (ms into the run) and how long they took. */
  slowest?: { startedAtMs: number; latencyMs: number }[];
}

/** Keeps the `size` slowest of the operations it is shown. */
class Slowest {
  private readonly kept: { startedAtMs: number; latencyMs: number }[] = [];
  constructor(private readonly size = 5) {}
  add(startedAtMs: number, latencyMs: number): void {
    if (this.kept.length === this.size && latencyMs <= (this.kept.at(-1)?.latencyMs ?? 0)) return;
    this.kept.push({ startedAtMs: Math.round(startedAtMs), latencyMs: Math.round(latencyMs) });
    this.kept.sort((a, b) => b.latencyMs - a.latencyMs);
    this.kept.length = Math.min(this.kept.length, this.size);
  }
  list() {
    return [...this.kept];
  }
}

/** Watches this process's event loop while `run` runs. */
async function watchingLoop<T extends LoadSample>(run: () => Promise<T>): Promise<T> {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  try {
    return { ...(await run()), loopMaxDelayMs: loop.max / 1e6 };
  } finally {
    loop.disable();
  }
}

/**
 * `concurrency` loops, each running `operation` back to back for `seconds`. Like autocannon, it counts
 * only operations that complete inside the window (those still in flight at its end are awaited, not
 * counted), so both sides of a comparison count the same way.
 */
export function closedLoop(
  concurrency: number,
  seconds: number,
  operation: (worker: number) => Promise<unknown>,
): Promise<LoadSample> {
  return watchingLoop(() => runClosedLoop(concurrency, seconds, operation));
}

async function runClosedLoop(
  concurrency: number,
  seconds: number,
  operation: (worker: number) => Promise<unknown>,
): Promise<LoadSample> {
  const latencies: number[] = [];
  const slowest = new Slowest();
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          await operation(worker);
          const t1 = performance.now();
          if (t1 <= end) {
            latencies.push(t1 - t0);
            slowest.add(t0 - started, t1 - t0);
          }
        } catch (error) {
          errors++;
          firstError ??= String((error as Error)?.stack ?? error);
        }
      }
    }),
  );
  return {
    count: latencies.length,
    elapsedMs: end - started,
    latencies,
    errors,
    firstError,
    slowest: slowest.list(),
  };
}

export interface HttpLoadOptions {
  url: string;
  concurrency: number;
  seconds: number;
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  headers: Record<string, string>;
  /** Path (and body) of each request, called once per request. */
  next: () => { path: string; body?: string };
}

/** autocannon with `concurrency` connections, one request in flight on each. */
export function httpLoad(options: HttpLoadOptions): Promise<LoadSample> {
  return watchingLoop(() => runHttpLoad(options));
}

async function runHttpLoad(options: HttpLoadOptions): Promise<LoadSample> {
  const latencies: number[] = [];
  const slowest = new Slowest();
  const statusCodes: Record<string, number> = {};
  const called = performance.now();
  let started = 0;
  let instance!: autocannon.Instance;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: options.url,
        connections: options.concurrency,
        pipelining: 1,
        duration: options.seconds,
        timeout: 30,
        method: options.method,
        headers: options.headers,
        requests: [
          {
            setupRequest: (request: autocannon.Request) => {
              const { path, body } = options.next();
              return { ...request, path, ...(body === undefined ? {} : { body }) };
            },
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
  instance.on('start', () => {
    started = performance.now();
  });
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
    if (statusCode >= 200 && statusCode < 300) {
      latencies.push(responseTime);
      slowest.add(performance.now() - responseTime - (started || called), responseTime);
    }
  });
  const result = await done;
  const elapsedMs = performance.now() - (started || called);
  const failed = Object.entries(statusCodes)
    .filter(([code]) => !code.startsWith('2'))
    .reduce((sum, [, count]) => sum + count, 0);
  return {
    count: latencies.length,
    elapsedMs,
    latencies,
    errors: failed + result.errors,
    firstError:
      failed + result.errors > 0
        ? `status codes ${JSON.stringify(statusCodes)}, connection errors ${result.errors}, timeouts ${result.timeouts}`
        : undefined,
    statusCodes,
    slowest: slowest.list(),
  };
}
