import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SERVICE_NAME } from './metric-names';

export { METRIC_NAMES, SERVICE_NAME } from './metric-names';

/**
 * One logger for every function. House rule: never log NHS numbers, names, tokens, request bodies or
 * path parameters; log route names, status codes, counts, durations and error names.
 */
export const logger = new Logger({ serviceName: SERVICE_NAME });

/**
 * Counts the alarms watch, in CloudWatch's embedded metric format. The stacks set the namespace per
 * stage (POWERTOOLS_METRICS_NAMESPACE); locally it is this default.
 */
export const metrics = new Metrics({ serviceName: SERVICE_NAME, namespace: 'ChildProtectionSharing/local' });

/** Writes the invocation's metrics, if it recorded any (an empty publish only warns). */
export function publishMetrics(): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}
