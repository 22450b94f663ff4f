/** Starts bench/server.ts (the real local service) in its own process and controls it. */
import path from 'node:path';
import { IpcChild } from './child';
import type { ServerStats } from './server-protocol';

/** Longer than any backlog a measurement leaves; beyond it the stream poller is stuck (see the log). */
const DRAIN_TIMEOUT_MS = 180_000;

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export interface StartServerOptions {
  tableName: string;
  queuePrefix: string;
  /** Label for logs and profiles. */
  name: string;
  workDir: string;
  cpuProfileDir?: string;
  env?: NodeJS.ProcessEnv;
  /** How long start-up may take (startLocalService scans the whole table for councils). Default 2 min. */
  readyTimeoutMs?: number;
}

export interface ServerHandle {
  name: string;
  url: string;
  pid: number;
  tableName: string;
  queuePrefix: string;
  logFile: string;
  /** Resolves once every stream record written so far has been dispatched to the council queues. */
  drained(timeoutMs?: number): Promise<void>;
  /** Creates a council's queues (as registering the council through the API does). */
  ensureQueues(councilCode: string): Promise<string>;
  stats(): Promise<ServerStats>;
  /** Stops the service; returns its final resource usage. */
  close(): Promise<ServerStats | undefined>;
}

export async function startServer(options: StartServerOptions): Promise<ServerHandle> {
  const logFile = path.join(options.workDir, `${options.name}.log`);
  const child = new IpcChild<{ url: string; pid: number }>({
    entry: 'bench/server.ts',
    name: options.name,
    logFile,
    cpuProfileDir: options.cpuProfileDir,
    readyTimeoutMs: options.readyTimeoutMs,
    env: {
      ...process.env,
      ...options.env,
      BENCH_SERVER_TABLE: options.tableName,
      BENCH_SERVER_QUEUE_PREFIX: options.queuePrefix,
    },
  });
  const ready = await child.ready;
  let closed: Promise<ServerStats | undefined> | undefined;
  return {
    name: options.name,
    url: ready.url,
    pid: ready.pid,
    tableName: options.tableName,
    queuePrefix: options.queuePrefix,
    logFile,
    drained: (timeoutMs = DRAIN_TIMEOUT_MS) =>
      withTimeout(
        child.request<void>({ cmd: 'drained' }),
        timeoutMs,
        `${options.name}: the stream was not drained within ${timeoutMs / 1000} s (log: ${logFile})`,
      ),
    ensureQueues: (councilCode) => child.request<string>({ cmd: 'ensureQueues', councilCode }),
    stats: () => child.request<ServerStats>({ cmd: 'stats' }),
    close: () => {
      closed ??= (async () => {
        if (child.exited) return undefined;
        const final = await withTimeout(
          child.request<ServerStats>({ cmd: 'close' }),
          30_000,
          `${options.name} did not close`,
        ).catch(() => undefined);
        await child.stop();
        return final;
      })();
      return closed;
    },
  };
}
