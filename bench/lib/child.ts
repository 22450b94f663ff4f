/**
 * A TypeScript entry (bench/server.ts, bench/direct.ts) in its own Node process, with an IPC channel:
 * waits for its `ready` message, sends numbered requests and matches replies, writes its output to a log
 * file, and is killed if the runner exits first.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface IpcChildOptions {
  /** Repository-relative entry, e.g. `bench/server.ts`. */
  entry: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** Write a V8 CPU profile into this directory when the process exits. */
  cpuProfileDir?: string;
  /** Label for the profile file name and error messages. */
  name: string;
  readyTimeoutMs?: number;
}

export class IpcChild<Ready = unknown> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly ready: Promise<Ready>;
  readonly process: ChildProcess;
  private readonly killOnExit = () => this.process.kill('SIGKILL');

  constructor(readonly options: IpcChildOptions) {
    const log = openSync(options.logFile, 'a');
    // One directory per process, default file names: tsx's loader thread writes a profile too.
    const profile = options.cpuProfileDir
      ? ['--cpu-prof', '--cpu-prof-dir', path.join(options.cpuProfileDir, options.name)]
      : [];
    this.process = spawn(
      process.execPath,
      ['--no-warnings', '--import', 'tsx', ...profile, path.join(REPO_ROOT, options.entry)],
      { cwd: REPO_ROOT, env: options.env, stdio: ['ignore', log, log, 'ipc'] },
    );
    process.once('exit', this.killOnExit);
    this.ready = new Promise<Ready>((resolve, reject) => {
      const timeoutMs = options.readyTimeoutMs ?? 120_000;
      const timer = setTimeout(() => {
        // A process that never became ready must not keep loading the machine.
        this.process.kill('SIGKILL');
        reject(
          new Error(`${options.name} did not start within ${timeoutMs / 1000} s (log: ${options.logFile})`),
        );
      }, timeoutMs);
      this.process.on(
        'message',
        (message: {
          type?: string;
          id?: number;
          ok?: boolean;
          value?: unknown;
          error?: string;
          message?: string;
        }) => {
          if (message.type === 'ready') {
            clearTimeout(timer);
            resolve(message as Ready);
          } else if (message.type === 'failed') {
            clearTimeout(timer);
            reject(
              new Error(`${options.name} failed to start: ${message.message} (log: ${options.logFile})`),
            );
          } else if (typeof message.id === 'number') {
            const waiter = this.pending.get(message.id);
            this.pending.delete(message.id);
            if (message.ok) waiter?.resolve(message.value);
            else waiter?.reject(new Error(`${options.name}: ${message.error}`));
          }
        },
      );
      this.process.once('exit', (code, signal) => {
        clearTimeout(timer);
        process.removeListener('exit', this.killOnExit);
        const error = new Error(
          `${options.name} exited (code ${code}, signal ${signal}); log: ${options.logFile}`,
        );
        reject(error);
        for (const waiter of this.pending.values()) waiter.reject(error);
        this.pending.clear();
      });
    });
    this.ready.catch(() => undefined);
  }

  get exited(): boolean {
    return this.process.exitCode !== null || this.process.signalCode !== null;
  }

  request<T>(message: Record<string, unknown>): Promise<T> {
    if (this.exited)
      return Promise.reject(new Error(`${this.options.name} is not running (log: ${this.options.logFile})`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.process.send({ ...message, id });
    });
  }

  /** Resolves when the process has exited; kills it after the grace period. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
