import { Metrics } from '@aws-lambda-powertools/metrics';
import { SERVICE_NAME } from './metric-names';

export { METRIC_NAMES } from './metric-names';

/**
 * Counts the alarms watch, in CloudWatch's embedded metric format. The stacks set the namespace per
 * stage (POWERTOOLS_METRICS_NAMESPACE); locally it is this default. Apart from the logger, so that only
 * the functions that count load Powertools Metrics at cold start.
 */
// A namespace given here would override POWERTOOLS_METRICS_NAMESPACE, so the default applies only unset.
export const metrics = new Metrics({
  serviceName: SERVICE_NAME,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'ChildProtectionSharing/local',
});

/** Writes the invocation's metrics, if it recorded any (an empty publish only warns). */
export function publishMetrics(): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}
