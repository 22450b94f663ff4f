/**
 * Starts bench/server.ts (the real local service) and controls it: the API in one process and the
 * stream poller with dispatch in another, as deployed they are separate functions, so that neither
 * side of a comparison has the council messages' dispatch on its own event loop.
 */
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
  /** The API process. */
  stats(): Promise<ServerStats>;
  /** The dispatch process (stream poller and dispatch function). */
  dispatchStats(): Promise<ServerStats>;
  /** Stops the service; returns its final resource usage. */
  close(): Promise<(ServerStats & { dispatch?: ServerStats }) | undefined>;
}

export async function startServer(options: StartServerOptions): Promise<ServerHandle> {
  const logFile = path.join(options.workDir, `${options.name}.log`);
  const dispatchName = `${options.name}-dispatch`;
  const dispatchLogFile = path.join(options.workDir, `${dispatchName}.log`);
  const start = (name: string, log: string, role: 'api' | 'dispatch') =>
    new IpcChild<{ url: string; pid: number }>({
      entry: 'bench/server.ts',
      name,
      logFile: log,
      cpuProfileDir: options.cpuProfileDir,
      readyTimeoutMs: options.readyTimeoutMs,
      env: {
        ...process.env,
        ...options.env,
        BENCH_SERVER_TABLE: options.tableName,
        BENCH_SERVER_QUEUE_PREFIX: options.queuePrefix,
        BENCH_SERVER_ROLE: role,
      },
    });
  // The API process creates the table the poller reads.
  const api = start(options.name, logFile, 'api');
  const ready = await api.ready;
  const dispatch = start(dispatchName, dispatchLogFile, 'dispatch');
  await dispatch.ready.catch(async (error) => {
    await api.stop();
    throw error;
  });
  const closeChild = async (child: IpcChild, name: string) => {
    if (child.exited) return undefined;
    const final = await withTimeout(
      child.request<ServerStats>({ cmd: 'close' }),
      30_000,
      `${name} did not close`,
    ).catch(() => undefined);
    await child.stop();
    return final;
  };
  let closed: ReturnType<ServerHandle['close']> | undefined;
  return {
    name: options.name,
    url: ready.url,
    pid: ready.pid,
    tableName: options.tableName,
    queuePrefix: options.queuePrefix,
    logFile,
    drained: (timeoutMs = DRAIN_TIMEOUT_MS) =>
      withTimeout(
        dispatch.request<void>({ cmd: 'drained' }),
        timeoutMs,
        `${options.name}: the stream was not drained within ${timeoutMs / 1000} s (log: ${dispatchLogFile})`,
      ),
    ensureQueues: (councilCode) => api.request<string>({ cmd: 'ensureQueues', councilCode }),
    stats: () => api.request<ServerStats>({ cmd: 'stats' }),
    dispatchStats: () => dispatch.request<ServerStats>({ cmd: 'stats' }),
    close: () => {
      closed ??= (async () => {
        const dispatchFinal = await closeChild(dispatch, dispatchName);
        const apiFinal = await closeChild(api, options.name);
        return apiFinal && { ...apiFinal, dispatch: dispatchFinal };
      })();
      return closed;
    },
  };
}
