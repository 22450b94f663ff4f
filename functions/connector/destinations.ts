/**
 * Where the connector hands council messages on: a case system's web hook, or a drop directory it
 * collects files from. A destination either takes a message (resolves) or throws; the connector
 * retries what throws.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import path from 'node:path';
import type { MessageEnvelope } from './message';

export interface Destination {
  /** Human description for progress output, e.g. `webhook https://…` (never the secret). */
  readonly description: string;
  deliver(body: string, envelope: MessageEnvelope): Promise<void>;
  /** Releases kept-alive connections, if any. */
  close?(): void;
}

/** A delivery the receiver did not take: retried with backoff. */
export class DeliveryFailed extends Error {
  override name = 'DeliveryFailed';
}

export const SIGNATURE_HEADER = 'X-Signature';
export const EVENT_ID_HEADER = 'X-Event-Id';
export const MESSAGE_TYPE_HEADER = 'X-Message-Type';

/** `sha256=<lower-case hex HMAC-SHA256 of the exact body bytes, keyed with the shared secret>`. */
export function signature(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface WebhookOptions {
  url: string;
  /** Shared secret for X-Signature; no header without one. */
  secret?: string;
  /** How long one POST may take before it counts as failed. */
  timeoutMs?: number;
}

/**
 * HTTP POST of the message body as received; any 2xx answer is delivery. Sent with node:http(s) over
 * kept-alive connections, one per message of a batch: noticeably cheaper per call than fetch.
 */
export class WebhookDestination implements Destination {
  readonly description: string;
  private readonly url: URL;
  private readonly timeoutMs: number;
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly send: typeof httpRequest;

  constructor(private readonly options: WebhookOptions) {
    this.url = new URL(options.url);
    this.description = `webhook ${this.url.origin}${this.url.pathname}${options.secret ? ' (signed)' : ''}`;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    const https = this.url.protocol === 'https:';
    this.agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.send = https ? httpsRequest : httpRequest;
  }

  deliver(body: string, envelope: MessageEnvelope): Promise<void> {
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      [EVENT_ID_HEADER]: envelope.eventId,
      [MESSAGE_TYPE_HEADER]: envelope.type,
    };
    if (this.options.secret) headers[SIGNATURE_HEADER] = signature(this.options.secret, body);
    const signal = AbortSignal.timeout(this.timeoutMs);
    return new Promise<void>((resolve, reject) => {
      const failed = (error: Error) =>
        reject(
          new DeliveryFailed(
            signal.aborted ? `webhook: no answer within ${this.timeoutMs} ms` : `webhook: ${error.message}`,
          ),
        );
      const request = this.send(
        this.url,
        { method: 'POST', headers, agent: this.agent, signal },
        (response) => {
          // Read the answer to the end, so the connection is kept for the next message.
          response.resume();
          response.on('error', failed);
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            if (status >= 200 && status <= 299) resolve();
            else reject(new DeliveryFailed(`webhook answered ${status}`));
          });
        },
      );
      request.on('error', failed);
      request.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The final name of a message's file: `<occurredAt compact>-<eventId>.json`, unique and time-sortable. */
export const dropFileName = (envelope: MessageEnvelope) => `${envelope.compactTime}-${envelope.eventId}.json`;
/** A write in progress: hidden, and not ending in .json, so collectors looking for *.json skip it. */
const TEMPORARY_NAME = /^\.\d{8}T\d{9}Z-[A-Za-z0-9_-]+\.json\.\d+-[0-9a-f]{8}\.tmp$/;

/**
 * One JSON file per message, written atomically: to a hidden temporary name in the same directory,
 * flushed to disk, then renamed, so a collector never sees a partial file under a final name. A
 * message handed on again (see docs/councils.md) lands on the same name with the same content.
 */
export class DropDirectoryDestination implements Destination {
  readonly description: string;

  constructor(private readonly directory: string) {
    this.description = `drop directory ${directory}`;
  }

  /**
   * Removes temporary files a killed connector left behind (never a final name): run before
   * receiving, by the one connector that writes into this directory.
   */
  async removeLeftovers(): Promise<number> {
    const leftovers = (await readdir(this.directory)).filter((name) => TEMPORARY_NAME.test(name));
    for (const name of leftovers) await rm(path.join(this.directory, name), { force: true });
    return leftovers.length;
  }

  async deliver(body: string, envelope: MessageEnvelope): Promise<void> {
    const final = path.join(this.directory, dropFileName(envelope));
    const temporary = path.join(
      this.directory,
      `.${dropFileName(envelope)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`,
    );
    const file = await open(temporary, 'wx');
    try {
      await file.writeFile(`${body}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, final);
    await syncDirectory(this.directory);
  }
}

/** Makes a rename in the directory durable (a no-op where directories cannot be opened, e.g. Windows). */
export async function syncDirectory(directory: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch (error) {
    if (!['EISDIR', 'EPERM', 'EINVAL'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
  } finally {
    await handle?.close();
  }
}
