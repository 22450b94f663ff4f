/**
 * One cold start, in a fresh Node process (bundled to plain JavaScript and run without tsx): imports a
 * bundled handler, serves it one event, and writes the timings as JSON to the result file.
 * Usage: node cold-probe.mjs <bundle.mjs> <event.json> <result.json>
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, eventFile, resultFile] = process.argv.slice(2) as [string, string, string];
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const deadline = Date.now() + 29_000;
const context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'cold-probe',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-2:000000000000:function:cold-probe',
  memoryLimitInMB: '1024',
  awsRequestId: `cold-${process.pid}`,
  logGroupName: '/aws/lambda/cold-probe',
  logStreamName: 'local',
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

/** A short description of what the handler answered. */
function outcome(result: unknown): string {
  const value = result as {
    statusCode?: number;
    policyDocument?: { Statement?: { Effect?: string }[] };
    batchItemFailures?: unknown[];
  };
  if (value?.statusCode !== undefined) return String(value.statusCode);
  if (value?.policyDocument) return value.policyDocument.Statement?.[0]?.Effect ?? 'policy';
  if (value?.batchItemFailures) return `${value.batchItemFailures.length} failed records`;
  return typeof result;
}

const t0 = performance.now();
const module = (await import(pathToFileURL(bundle).href)) as {
  handler: (event: unknown, context: unknown) => Promise<unknown>;
};
const t1 = performance.now();
let status: string;
try {
  status = outcome(await module.handler(event, context));
} catch (error) {
  status = `threw ${(error as Error)?.name}: ${(error as Error)?.message}`;
}
const t2 = performance.now();
// Set by bundles built with the benchmark's SDK timer (bench/measurements/cold-start.ts).
const timer = (
  globalThis as {
    __benchSdkCalls?: { ms: number; calls: number; fetches: number; operations: string[] };
  }
).__benchSdkCalls;
const sdk = timer
  ? { ms: timer.ms, calls: timer.calls, fetches: timer.fetches, operations: timer.operations }
  : undefined;
writeFileSync(
  resultFile,
  JSON.stringify({ bootMs: t0, importMs: t1 - t0, firstEventMs: t2 - t1, totalMs: t2 - t0, status, sdk }),
);
process.exit(0);
