/** Starts bench/direct.ts (the direct SDK baseline) in its own process and hands it jobs. */
import path from 'node:path';
import type { Claims } from '../../testkit/tokens';
import { IpcChild } from './child';
import type { LoadSample } from './load';

export type DirectJob =
  | {
      op: 'lookup';
      tableName: string;
      /** Children are drawn uniformly from benchNhsNumber(start .. start + count - 1). */
      pool: { start: number; count: number };
      claims: Claims;
      /** Whether every child of the pool has a plan (checked on every call). */
      expectPlans: boolean;
      concurrency: number;
      seconds: number;
    }
  | {
      op: 'publish';
      tableName: string;
      councilCode: string;
      /** Each publish creates a plan for benchNhsNumber(firstSeed + n). */
      firstSeed: number;
      startDate: string;
      claims: Claims;
      concurrency: number;
      seconds: number;
    };

/** What the worker's bare HTTP server serves: the lookups of one workload (bench/direct.ts). */
export interface LookupServing {
  tableName: string;
  claims: Claims;
  /** Whether every child asked about has a plan (otherwise the server answers 500). */
  expectPlans: boolean;
}

export interface DirectWorker {
  pid: number;
  run(job: DirectJob): Promise<LoadSample>;
  /** Serves a workload's lookups behind a bare HTTP server in the worker process; answers its URL. */
  serveLookups(serving: LookupServing): Promise<string>;
  /** CPU time the worker process has used so far. */
  cpuMs(): Promise<number>;
  close(): Promise<void>;
}

export async function startDirectWorker(options: {
  workDir: string;
  cpuProfileDir?: string;
  name?: string;
}): Promise<DirectWorker> {
  const name = options.name ?? 'direct';
  const child = new IpcChild<{ pid: number }>({
    entry: 'bench/direct.ts',
    name,
    logFile: path.join(options.workDir, `${name}.log`),
    cpuProfileDir: options.cpuProfileDir,
    env: process.env,
  });
  const ready = await child.ready;
  return {
    pid: ready.pid,
    run: (job) => child.request<LoadSample>(job),
    serveLookups: (serving) => child.request<string>({ op: 'serve-lookups', ...serving }),
    cpuMs: async () => (await child.request<{ cpuMs: number }>({ op: 'stats' })).cpuMs,
    close: async () => {
      child.process.disconnect();
      await child.stop();
    },
  };
}
