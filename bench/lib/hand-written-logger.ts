/**
 * What-if `hand-written-logger` of the cold-start measure: stands in for functions/observability.ts and
 * Powertools' `injectLambdaContext` at bundle time, writing the same kind of JSON line by hand (level,
 * message, time, service, cold start, function name and request id, the call's keys). It measures what
 * Powertools Logger costs a cold start over the least a structured logger must do. Never deployed.
 */
import type { Context } from 'aws-lambda';

export { METRIC_NAMES, SERVICE_NAME } from '../../functions/metric-names';

import { SERVICE_NAME } from '../../functions/metric-names';

let context: Context | undefined;
let coldStart = true;

function line(level: string, message: string, extra?: Record<string, unknown>): void {
  process.stdout.write(
    `${JSON.stringify({
      level,
      message,
      timestamp: new Date().toISOString(),
      service: SERVICE_NAME,
      cold_start: coldStart,
      function_name: context?.functionName,
      function_request_id: context?.awsRequestId,
      ...extra,
    })}\n`,
  );
}

export const logger = {
  info: (message: string, extra?: Record<string, unknown>) => line('INFO', message, extra),
  warn: (message: string, extra?: Record<string, unknown>) => line('WARN', message, extra),
  error: (message: string, extra?: Record<string, unknown>) => line('ERROR', message, extra),
  addContext(lambdaContext: Context): void {
    context = lambdaContext;
  },
};

export function injectLambdaContext(_logger: unknown, _options?: unknown) {
  return {
    before(request: { context: Context }): void {
      context = request.context;
    },
    after(): void {
      coldStart = false;
    },
    onError(): void {
      coldStart = false;
    },
  };
}
