/** Messages between the runner and a bench server or direct worker process. */
export interface ServerRequest {
  id: number;
  cmd: 'drained' | 'stats' | 'ensureQueues' | 'close';
  councilCode?: string;
}

export interface ServerReply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

export interface ServerStats {
  pid: number;
  /** Peak resident set size of the process so far. */
  maxRssBytes: number;
  rssBytes: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  /** Errors the local runtime reported (poller, dispatch, adapter). */
  runtimeErrors: number;
  lastError?: string;
  /** Since the previous stats call: the longest event-loop stall and the longest GC pause (ms). */
  eventLoopMaxDelayMs: number;
  gcMaxPauseMs: number;
}
