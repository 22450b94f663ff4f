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
  /**
   * The five slowest operations: when they started (ms after the window opened, negative if before)
   * and how long they took.
   */
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

/**
 * The timed window of one load: it opens once each of `parties` (loops or connections) has finished its
 * first operation, which is not timed, so that both sides of a comparison are timed in the same steady
 * state; it keeps the successful operations that complete inside it.
 */
class TimedWindow {
  readonly latencies: number[] = [];
  private readonly slowest = new Slowest();
  private readonly started = new Set<unknown>();
  start: number | undefined;

  constructor(
    private readonly parties: number,
    readonly ms: number,
    private readonly onOpen: () => void = () => {},
  ) {}

  get end(): number | undefined {
    return this.start === undefined ? undefined : this.start + this.ms;
  }

  /** One operation of `party` completed now, after `latencyMs`. */
  complete(party: unknown, latencyMs: number, ok: boolean, now = performance.now()): void {
    if (!this.started.has(party)) {
      this.started.add(party);
      if (this.started.size === this.parties) {
        this.start = now;
        this.onOpen();
      }
    } else if (ok && this.start !== undefined && now <= this.start + this.ms) {
      this.latencies.push(latencyMs);
      this.slowest.add(now - latencyMs - this.start, latencyMs);
    }
  }

  /** Why the window never opened, or undefined if it did. */
  notOpened(what: string): string | undefined {
    return this.start === undefined
      ? `only ${this.started.size} of ${this.parties} ${what} finished a first operation within ${RAMP_LIMIT_SECONDS} s`
      : undefined;
  }

  sample(): Pick<LoadSample, 'count' | 'latencies' | 'slowest'> {
    return { count: this.latencies.length, latencies: this.latencies, slowest: this.slowest.list() };
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
 * `concurrency` loops, each running `operation` back to back, timed over a `TimedWindow` of `seconds`
 * (rather than from a burst of simultaneous first calls); operations still in flight at its end are
 * awaited, not counted.
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
  const window = new TimedWindow(concurrency, seconds * 1000);
  const rampDeadline = performance.now() + RAMP_LIMIT_SECONDS * 1000;
  let errors = 0;
  let firstError: string | undefined;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < (window.end ?? rampDeadline)) {
        const t0 = performance.now();
        let ok = true;
        try {
          await operation(worker);
        } catch (error) {
          ok = false;
          errors++;
          firstError ??= String((error as Error)?.stack ?? error);
        }
        window.complete(worker, performance.now() - t0, ok);
      }
    }),
  );
  const notOpened = window.notOpened('loops');
  return {
    ...window.sample(),
    elapsedMs: window.ms,
    errors: errors + (notOpened ? 1 : 0),
    firstError: firstError ?? notOpened,
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
 * autocannon with `concurrency` connections, one request in flight on each, timed over a `TimedWindow`
 * of `seconds` that opens once every connection has had its first answer. Had it opened with the
 * connections, it would have timed the service's accept queue: a busy Node server accepts one new
 * connection per turn of its event loop (libuv 1.45 stopped accepting in a loop, libuv/libuv#3696), so
 * the last of 64 new connections was accepted up to 3 s into the round.
 */
export function httpLoad(options: HttpLoadOptions): Promise<LoadSample> {
  return watchingLoop(() => runHttpLoad(options));
}

async function runHttpLoad(options: HttpLoadOptions): Promise<LoadSample> {
  const statusCodes: Record<string, number> = {};
  let stopTimer: NodeJS.Timeout | undefined;
  let instance!: autocannon.Instance;
  const window = new TimedWindow(options.concurrency, options.seconds * 1000, () => {
    stopTimer = setTimeout(() => instance.stop(), window.ms);
  });
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
    statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
    window.complete(client, responseTime, statusCode >= 200 && statusCode < 300);
  });
  const result = await done.finally(() => clearTimeout(stopTimer));
  const failed = Object.entries(statusCodes)
    .filter(([code]) => !code.startsWith('2'))
    .reduce((sum, [, count]) => sum + count, 0);
  const notOpened = window.notOpened('connections');
  const errors = failed + result.errors + (notOpened ? 1 : 0);
  return {
    ...window.sample(),
    // Shorter than the window only if autocannon's own duration ran out first (a ramp of nearly 30 s).
    elapsedMs: window.start === undefined ? 0 : Math.min(performance.now() - window.start, window.ms),
    errors,
    firstError:
      errors > 0
        ? `status codes ${JSON.stringify(statusCodes)}, connection errors ${result.errors}, timeouts ${result.timeouts}` +
          (notOpened ? `; ${notOpened}` : '')
        : undefined,
    statusCodes,
  };
}
