/**
 * The test environment of every project: jest's node environment, plus quiet service output.
 *
 * The service's Powertools Logger (and Metrics) write JSON lines straight to process.stdout/stderr
 * through a `Console` of their own, not through jest's console, so jest neither attributes nor hides
 * them: tests that drive fault paths on purpose printed hundreds of ERROR lines into a green run.
 * Here, while a test file runs, every write that is a whole Powertools log record (a JSON object with
 * `level`, `message` and `timestamp`) or metrics record (`_aws.CloudWatchMetrics`), and every
 * `console.error`/`console.warn` call, is held back instead:
 *
 * - during a test (from its `beforeEach` hooks to its `afterEach` hooks), in that test's buffer, printed
 *   to stderr under the test's name if the test fails and dropped if it passes;
 * - outside any test (module scope, `beforeAll`/`afterAll`, background work between tests), in the
 *   file's buffer, printed when the file ends if anything in it failed (a test, a hook, an uncaught
 *   error, or the file not loading at all).
 *
 * Anything else written to the streams passes through untouched (jest's own output when it runs in
 * band, a CLI's progress, a test's deliberate output). A test that replaces `process.stdout.write` or
 * the logger's console to read the logs itself (privacy.test.ts, fuzz.test.ts) sits above this layer
 * and sees every line first. `TEST_LOGS=1 npm test` turns all of this off and shows everything as it
 * is written.
 *
 * A custom environment rather than a setup file because only the environment hears jest-circus's
 * events (`handleTestEvent`), which say reliably which test is running and whether it failed;
 * an `afterEach` cannot see the current test's errors.
 */
import path from 'node:path';
import { formatWithOptions } from 'node:util';
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import type { Circus } from '@jest/types';
import NodeEnvironment from 'jest-environment-node';

/** The levels a Powertools log record carries (SILENT never reaches a record). */
const LEVELS = new Set(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL']);

/** At most this many entries are kept per buffer (the latest); a runaway loop must not eat the heap. */
const MAX_ENTRIES = 2000;

/** True when a chunk written to stdout/stderr is one whole Powertools log or metrics record. */
export function isServiceRecord(chunk: unknown): boolean {
  if (typeof chunk !== 'string') return false;
  const text = chunk.trim();
  if (!text.startsWith('{') || !text.endsWith('}')) return false;
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    return false;
  }
  if (!record || typeof record !== 'object') return false;
  const { level, message, timestamp, _aws } = record as Record<string, unknown>;
  if (typeof level === 'string' && LEVELS.has(level) && message !== undefined && timestamp !== undefined)
    return true;
  return Array.isArray((_aws as { CloudWatchMetrics?: unknown } | undefined)?.CloudWatchMetrics);
}

/** Output held back: the scope it was written in, and its lines. */
interface Held {
  title: string;
  lines: string[];
  dropped: number;
}

type Write = typeof process.stdout.write;
const STREAMS = ['stdout', 'stderr'] as const;
const CONSOLE_METHODS = ['error', 'warn'] as const;

export default class QuietLogsEnvironment extends NodeEnvironment {
  readonly #file: string;
  readonly #enabled = !['1', 'true', 'yes'].includes((process.env.TEST_LOGS ?? '').toLowerCase());
  #fileBuffer: Held;
  #testBuffer: Held | undefined;
  #fileFailed = false;
  #runFinished = false;
  #writes: Partial<Record<(typeof STREAMS)[number], Write>> = {};

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    this.#file = path.relative(config.globalConfig.rootDir, context.testPath);
    this.#fileBuffer = { title: `outside any test in ${this.#file}`, lines: [], dropped: 0 };
  }

  override async setup(): Promise<void> {
    await super.setup();
    if (!this.#enabled) return;
    for (const name of STREAMS) {
      const stream = process[name];
      const write = stream.write;
      this.#writes[name] = write;
      stream.write = ((chunk: unknown, ...rest: unknown[]) => {
        if (!isServiceRecord(chunk))
          return (write as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
        this.#hold(String(chunk));
        // Honour a write callback as the stream would (the console passes one, to catch write errors).
        const callback = rest.find((arg) => typeof arg === 'function') as
          | ((error?: Error | null) => void)
          | undefined;
        if (callback) process.nextTick(callback, null);
        return true;
      }) as Write;
    }
    // jest's console for this file (set before setup); a spy installed by a test wraps this one.
    const testConsole = this.global.console;
    for (const method of CONSOLE_METHODS) {
      testConsole[method] = (...args: unknown[]) => {
        this.#hold(`console.${method}: ${formatWithOptions({ colors: false }, ...args)}\n`);
      };
    }
  }

  override async teardown(): Promise<void> {
    if (this.#enabled) {
      // A file that never finished its run (it did not load, or the run was cut short) counts as failed.
      if (this.#fileFailed || !this.#runFinished) this.#print(this.#fileBuffer);
      for (const name of STREAMS) {
        const write = this.#writes[name];
        if (write) process[name].write = write;
      }
      this.#writes = {};
      // Back to jest's own methods, so a log after the file ends still gets jest's warning about it.
      for (const method of CONSOLE_METHODS) delete (this.global.console as Partial<Console>)[method];
    }
    await super.teardown();
  }

  handleTestEvent(event: Circus.AsyncEvent | Circus.SyncEvent, state: Circus.State): void {
    switch (event.name) {
      case 'test_start':
        this.#testBuffer = {
          title: `of the failed test "${testName(event.test)}" in ${this.#file}`,
          lines: [],
          dropped: 0,
        };
        break;
      case 'test_done':
        if (event.test.errors.length > 0) {
          this.#fileFailed = true;
          if (this.#testBuffer) this.#print(this.#testBuffer);
        }
        this.#testBuffer = undefined;
        break;
      case 'hook_failure':
      case 'error':
        this.#fileFailed = true;
        break;
      case 'run_finish':
        this.#runFinished = true;
        if (state.unhandledErrors.length > 0) this.#fileFailed = true;
        break;
    }
  }

  #hold(text: string): void {
    const buffer = this.#testBuffer ?? this.#fileBuffer;
    buffer.lines.push(text.endsWith('\n') ? text : `${text}\n`);
    if (buffer.lines.length > MAX_ENTRIES) {
      buffer.lines.shift();
      buffer.dropped++;
    }
  }

  /** Writes a buffer to stderr (past the interception), framed so it reads as one block. */
  #print(buffer: Held): void {
    if (buffer.lines.length === 0) return;
    const write = this.#writes.stderr ?? process.stderr.write;
    const dropped = buffer.dropped > 0 ? ` (the first ${buffer.dropped} not kept)` : '';
    const text = [
      `\n── service output ${buffer.title}: ${buffer.lines.length} line(s)${dropped} ──\n`,
      ...buffer.lines,
      '── end of service output ──\n\n',
    ].join('');
    write.call(process.stderr, text);
    buffer.lines = [];
    buffer.dropped = 0;
  }
}

/** "describe › nested describe › test", as jest names a test. */
function testName(test: Circus.TestEntry): string {
  const names = [test.name];
  for (let block = test.parent; block?.parent; block = block.parent) names.unshift(block.name);
  return names.join(' › ');
}
