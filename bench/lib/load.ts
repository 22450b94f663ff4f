/**
 * Load at a fixed concurrency for a fixed time, measured the same way on both sides of a comparison:
 * `closedLoop` for in-process operations (the direct SDK baselines), `httpLoad` (autocannon) for the
 * service. Latency samples are kept at full resolution (autocannon's own histogram rounds to whole ms).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import autocannon from 'autocannon';

/** How long every loop or connection may take over its first operation before the load counts as failed. */
const RAMP_LIMIT_SECONDS = 30;

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
  /** The five slowest operations: when they started (ms after the window opened, negative if before) and how long they took. */
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
 * `concurrency` loops, each running `operation` back to back. As in `httpLoad`, the timed window of
 * `seconds` opens once every loop has finished its first operation, so that both sides of a comparison
 * are timed in the same steady state rather than from a burst of simultaneous first calls. It counts
 * the operations that complete inside the window (those still in flight at its end are awaited, not
 * counted).
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
  const windowMs = seconds * 1000;
  const rampDeadline = performance.now() + RAMP_LIMIT_SECONDS * 1000;
  let ready = 0;
  let windowStart: number | undefined;
  const end = () => (windowStart === undefined ? rampDeadline : windowStart + windowMs);
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      let first = true;
      while (performance.now() < end()) {
        const t0 = performance.now();
        try {
          await operation(worker);
        } catch (error) {
          errors++;
          firstError ??= String((error as Error)?.stack ?? error);
        }
        const t1 = performance.now();
        if (first) {
          first = false;
          if (++ready === concurrency) windowStart = t1;
        } else if (windowStart !== undefined && t1 <= end()) {
          latencies.push(t1 - t0);
          slowest.add(t0 - windowStart, t1 - t0);
        }
      }
    }),
  );
  if (windowStart === undefined) {
    errors++;
    firstError ??= `only ${ready} of ${concurrency} loops finished a first operation within ${RAMP_LIMIT_SECONDS} s`;
  }
  return {
    count: latencies.length,
    elapsedMs: windowMs,
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

/**
 * autocannon with `concurrency` connections, one request in flight on each. As in `closedLoop`, the
 * timed window opens once every connection has had its first answer, and it counts the answers that
 * arrive inside it. Had it opened with the connections, it would have timed the service's accept
 * queue: a busy Node server accepts one new connection per turn of its event loop (libuv 1.45 stopped
 * accepting in a loop, libuv/libuv#3696), so the last of 64 new connections was accepted up to 3 s
 * into the round.
 */
export function httpLoad(options: HttpLoadOptions): Promise<LoadSample> {
  return watchingLoop(() => runHttpLoad(options));
}

async function runHttpLoad(options: HttpLoadOptions): Promise<LoadSample> {
  const latencies: number[] = [];
  const slowest = new Slowest();
  const statusCodes: Record<string, number> = {};
  const answered = new Set<unknown>();
  const windowMs = options.seconds * 1000;
  let windowStart: number | undefined;
  let stopTimer: NodeJS.Timeout | undefined;
  let instance!: autocannon.Instance;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: options.url,
        connections: options.concurrency,
        pipelining: 1,
        duration: options.seconds + RAMP_LIMIT_SECONDS,
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
  instance.on('response', (client, statusCode, _bytes, responseTime) => {
    const now = performance.now();
    statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
    if (!answered.has(client)) {
      answered.add(client);
      if (answered.size === options.concurrency) {
        windowStart = now;
        stopTimer = setTimeout(() => instance.stop(), windowMs);
      }
      return;
    }
    if (windowStart === undefined || now > windowStart + windowMs) return;
    if (statusCode >= 200 && statusCode < 300) {
      latencies.push(responseTime);
      slowest.add(now - responseTime - windowStart, responseTime);
    }
  });
  const result = await done.finally(() => clearTimeout(stopTimer));
  // Shorter than the window only if autocannon's own duration ran out first (a ramp of nearly 30 s).
  const elapsedMs = windowStart === undefined ? 0 : Math.min(performance.now() - windowStart, windowMs);
  const failed = Object.entries(statusCodes)
    .filter(([code]) => !code.startsWith('2'))
    .reduce((sum, [, count]) => sum + count, 0);
  const errors = failed + result.errors + (windowStart === undefined ? 1 : 0);
  return {
    count: latencies.length,
    elapsedMs,
    latencies,
    errors,
    firstError:
      errors > 0
        ? `status codes ${JSON.stringify(statusCodes)}, connection errors ${result.errors}, timeouts ${result.timeouts}` +
          (windowStart === undefined
            ? `; only ${answered.size} of ${options.concurrency} connections answered within ${RAMP_LIMIT_SECONDS} s`
            : '')
        : undefined,
    statusCodes,
    slowest: slowest.list(),
  };
}
