import { Logger } from '@aws-lambda-powertools/logger';
import { SERVICE_NAME } from './metric-names';

export { METRIC_NAMES, SERVICE_NAME } from './metric-names';

/**
 * One logger for every function. House rule: never log NHS numbers, names, tokens, request bodies or
 * path parameters; log route names, status codes, counts, durations and error names.
 */
export const logger = new Logger({ serviceName: SERVICE_NAME });
