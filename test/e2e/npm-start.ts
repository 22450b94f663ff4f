/**
 * A real `npm start` for the browser tests: its own port, runtime file and emulators, the local identity
 * provider, and the web view it builds when missing or stale. Stopped as Ctrl-C stops it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  DeleteMessageCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { councilQueueName } from '../../functions/notify/council-queues';
import { useLocalAws } from '../../local/aws-env';
import type { RuntimeInfo } from '../../local/runtime-file';

export interface RunningService {
  /** The API's origin, e.g. http://127.0.0.1:41234 */
  url: string;
  /** The web view's address, as `npm start` prints it. */
  webView: string;
  runtime: RuntimeInfo & { identityOrigin: string };
  /** Every message on the council's queue, read until the queue stays empty for a few seconds, deleted. */
  takeMessages(councilCode: string): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

export async function startNpmStart(): Promise<RunningService> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'cpis-e2e-'));
  const runtimeFile = path.join(scratch, 'runtime.json');
  const child: ChildProcess = spawn('npm', ['start'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: '0', LOCAL_RUNTIME_FILE: runtimeFile, POWERTOOLS_LOG_LEVEL: 'WARN' },
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(-child.pid, 'SIGINT');
      await exited;
    }
    rmSync(scratch, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 180_000;
    let match: RegExpExecArray | null = null;
    while (!match) {
      match = /Clinician web view (http:\/\/\S+\/web\/)/.exec(output);
      if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
      if (Date.now() > deadline) throw new Error(`npm start printed no web view address:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const runtime = JSON.parse(readFileSync(runtimeFile, 'utf8')) as RunningService['runtime'];
    useLocalAws({ dynamodb: runtime.dynamodbEndpoint, sqs: runtime.sqsEndpoint });
    // The testkit's tokens come from the same provider the service trusts.
    process.env.LOCAL_IDENTITY_ORIGIN = runtime.identityOrigin;
    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
    return {
      url: runtime.url,
      webView: match[1] as string,
      runtime,
      async takeMessages(councilCode) {
        const { QueueUrl } = await sqs.send(
          new GetQueueUrlCommand({ QueueName: councilQueueName(runtime.queuePrefix, councilCode) }),
        );
        const messages: Record<string, unknown>[] = [];
        for (;;) {
          const received = await sqs.send(
            new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 3 }),
          );
          if (!received.Messages?.length) return messages;
          for (const message of received.Messages) {
            messages.push(JSON.parse(message.Body as string));
            await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
          }
        }
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
