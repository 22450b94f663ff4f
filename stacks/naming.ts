/**
 * The few physical names that are contracts, and the ids the stacks are deployed under. Everything
 * else gets a generated name.
 */
export const SERVICE = 'child-protection-sharing';

/**
 * The global table's name: the contract by which each region's stacks find their replica (a replica
 * lives in the primary region's stack, so other regions cannot reference it as a construct).
 */
export const tableName = (stage: string): string => `${SERVICE}-${stage}`;

/**
 * Alias of each region's table key: the primary region's Data stack names the replica keys by alias
 * ARN, because the key ids in other regions are unknown when it is synthesized.
 */
export const tableKeyAlias = (stage: string): string => `alias/${SERVICE}/${stage}/table`;

/** WAF delivers logs only to log groups whose names start with `aws-waf-logs-`. */
export const wafLogGroupName = (stage: string, region: string): string =>
  `aws-waf-logs-${SERVICE}-${stage}-${region}`;

/**
 * The CloudWatch namespace of the functions' own counts (Powertools Metrics, POWERTOOLS_METRICS_NAMESPACE):
 * the alarms watch the namespace the functions are given.
 */
export const metricsNamespace = (stage: string): string => `ChildProtectionSharing/${stage}`;

/** API Gateway stage name (part of the execute-api URL; a custom domain maps its root to it). */
export const API_STAGE_NAME = 'live';

/** Stack ids inside a stage: `cdk deploy '<stage>/*'` deploys a stage, `'<stage>/*-<region>'` one region. */
export const stackIds = {
  data: (region: string) => `Data-${region}`,
  messaging: (region: string) => `Messaging-${region}`,
  api: (region: string) => `Api-${region}`,
  monitoring: (region: string) => `Monitoring-${region}`,
};

/**
 * Council queues are named `<prefix><code>` and `<prefix><code>-dlq` (functions/notify/queue-names.ts),
 * so that the dispatch function and each council's consumer know a queue's URL from the council's code
 * and no per-council value has to pass through an environment variable or a stack output.
 */
export const councilQueuePrefix = (stage: string): string => `${SERVICE}-${stage}-council-`;
