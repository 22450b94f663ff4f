/**
 * The eventIds the connector has handed on, so that a message SQS delivers again (a delete that did
 * not happen, a crash, a redrive) is deleted rather than handed on twice. Two stores behind one
 * interface: a journal file (the CLI) and a DynamoDB table (a Lambda; dynamodb-store.ts).
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { syncDirectory } from './destinations';

export interface DeliveredStore {
  has(eventId: string): Promise<boolean>;
  /** Resolves once the eventId is durably recorded. */
  add(eventId: string): Promise<void>;
  close(): Promise<void>;
}

/** SQS keeps a message at most 14 days, so an eventId older than that cannot come back from the queue. */
export const DEFAULT_RETENTION_MS = 14 * 24 * 60 * 60 * 1000;
export const DEFAULT_MAX_REMEMBERED = 500_000;

export interface JournalOptions {
  /** Forget eventIds delivered longer ago than this (default 14 days, SQS's longest retention). */
  retentionMs?: number;
  /** Remember at most this many (the most recent), however young. */
  maxRemembered?: number;
  now?: () => number;
}

const LINE = /^([A-Za-z0-9_-]{1,128}) (\d{1,15})$/;

/**
 * An append-only journal, one `<eventId> <delivered at, ms>` line per delivery, flushed to disk
 * (fsync) before add resolves; adds made at the same time share one write and one flush. Compacted
 * when opened (and when it has grown to twice its bound): rewritten atomically with only what is
 * still remembered. A torn last line (a crash mid-write) is ignored: that delivery was not recorded.
 */
export class JournalDeliveredStore implements DeliveredStore {
  private readonly delivered = new Map<string, number>();
  private handle: Awaited<ReturnType<typeof open>> | undefined;
  private pending: string[] = [];
  private flushing: Promise<void> | undefined;
  private linesInFile = 0;
  private readonly retentionMs: number;
  private readonly maxRemembered: number;
  private readonly now: () => number;

  private constructor(
    readonly file: string,
    options: JournalOptions,
  ) {
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.maxRemembered = options.maxRemembered ?? DEFAULT_MAX_REMEMBERED;
    this.now = options.now ?? Date.now;
  }

  static async open(file: string, options: JournalOptions = {}): Promise<JournalDeliveredStore> {
    const store = new JournalDeliveredStore(file, options);
    await mkdir(path.dirname(file), { recursive: true });
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const lines = text.split('\n');
    lines.pop(); // the text after the last newline: empty, or a torn line
    for (const line of lines) {
      const match = LINE.exec(line);
      if (match) store.remember(match[1] as string, Number(match[2]));
    }
    await store.compact();
    return store;
  }

  /** How many eventIds it remembers now. */
  get size(): number {
    return this.delivered.size;
  }

  async has(eventId: string): Promise<boolean> {
    return this.delivered.has(eventId);
  }

  async add(eventId: string): Promise<void> {
    if (this.delivered.has(eventId)) return;
    const at = this.now();
    this.pending.push(`${eventId} ${at}\n`);
    await this.flush();
    this.remember(eventId, at);
    if (this.linesInFile > 2 * this.maxRemembered) await this.compact();
  }

  async close(): Promise<void> {
    await this.flush();
    await this.handle?.close();
    this.handle = undefined;
  }

  private remember(eventId: string, at: number): void {
    this.delivered.delete(eventId);
    this.delivered.set(eventId, at);
    // Insertion order is delivery order: the oldest go first.
    for (const [oldest] of this.delivered) {
      if (this.delivered.size <= this.maxRemembered) break;
      this.delivered.delete(oldest);
    }
  }

  /** One write and one fsync for every line added since the last flush began. */
  private async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    this.flushing = (async () => {
      const handle = this.handle as NonNullable<typeof this.handle>;
      await handle.write(lines.join(''));
      await handle.datasync();
      this.linesInFile += lines.length;
    })();
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }

  /** Rewrites the journal with only what is remembered; no flush runs meanwhile. */
  private async compact(): Promise<void> {
    while (this.flushing) await this.flushing;
    this.flushing = this.rewrite();
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }

  private async rewrite(): Promise<void> {
    const cutoff = this.now() - this.retentionMs;
    for (const [eventId, at] of this.delivered) if (at < cutoff) this.delivered.delete(eventId);
    const temporary = `${this.file}.${process.pid}.compact.tmp`;
    const rewrite = await open(temporary, 'w');
    try {
      await rewrite.writeFile([...this.delivered].map(([eventId, at]) => `${eventId} ${at}\n`).join(''));
      await rewrite.sync();
    } finally {
      await rewrite.close();
    }
    await this.handle?.close();
    await rename(temporary, this.file);
    await syncDirectory(path.dirname(this.file));
    this.handle = await open(this.file, 'a');
    this.linesInFile = this.delivered.size;
  }
}
