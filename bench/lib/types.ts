/** The shapes every measurement shares: what it is given, and the rows it records. */

import type { DirectWorker } from './direct-worker';
import type { ServerHandle, StartServerOptions } from './server';

export type Mode = 'quick' | 'full';

/** A target: `ratio` compares value / baseline, `value` the value itself. */
export interface Target {
  kind: 'ratio' | 'value';
  op: '>=' | '<=';
  limit: number;
}

export interface ResultRow {
  /** The measurement that recorded it (its id). */
  measurement: string;
  /** Unique within the run, e.g. `lookup.notifying-found.c16.throughput`. */
  id: string;
  /** Human label, e.g. `lookup notifying (found), concurrency 16: throughput`. */
  label: string;
  unit: string;
  value: number;
  baseline?: { label: string; value: number };
  /** value / baseline.value */
  ratio?: number;
  target?: Target;
  /** undefined when the row has no target (informational). */
  pass?: boolean;
  details?: Record<string, unknown>;
}

export interface BenchSettings {
  mode: Mode;
  /** Measured rounds per comparison (baseline and service alternate within each). */
  rounds: number;
  /** Seconds per measured round of a throughput comparison. */
  roundSeconds: number;
  /** Seconds of untimed warm-up per side before a comparison. */
  warmupSeconds: number;
  /** Children in the lookup pool of the main table. */
  lookupPool: number;
  /** Notifying lookups in the notification latency measure, and their rate. */
  notifyLookups: number;
  notifyRatePerSecond: number;
  /** Children in the small and the large table of the scale measure. */
  scaleSmall: number;
  scaleLarge: number;
  /** Rows in the CSV file the upload measure sends through the CLI. */
  uploadRows: number;
  /** Fresh processes per bundle in the cold-start measure. */
  coldStartRepeats: number;
}

export interface BenchContext {
  settings: BenchSettings;
  /** The main service (one table, one set of council queues), running in its own process. */
  server: ServerHandle;
  /** The direct SDK worker process (baselines), against the main table unless told otherwise. */
  direct: DirectWorker;
  endpoints: { dynamodb: string; sqs: string };
  /** A scratch directory for this run (bundles, logs, profiles). */
  workDir: string;
  /** What-if variants asked for with --what-if (see the measurements that offer them). */
  whatIf: Set<string>;
  /** Where CPU profiles go when --profile is given, else undefined. */
  profileDir?: string;
  /** Starts another service process (e.g. on another table); the runner stops it at the end. */
  startServer(options: Omit<StartServerOptions, 'workDir' | 'cpuProfileDir'>): Promise<ServerHandle>;
  record(row: Omit<ResultRow, 'measurement' | 'ratio' | 'pass'>): ResultRow;
  /** Every row recorded so far in this run. */
  results(): readonly ResultRow[];
  note(text: string): void;
  log(text: string): void;
}

export interface Measurement {
  /** Short id, used by `--only` and as the prefix of row ids. */
  id: string;
  title: string;
  /**
   * Runs on in the previous measurement's emulators and processes instead of fresh ones (the cost
   * measure reads the items the one before it wrote). Every other measurement starts on new ones:
   * DynamoDB Local slows down as data and stream records pile up in it. (The quick mode, with small data
   * sets, runs every measurement on one environment.)
   */
  reusesPreviousEnvironment?: boolean;
  /** Seeds what it needs and records its rows through ctx.record. */
  run(ctx: BenchContext): Promise<void>;
}
