/**
 * Council queue names, the contract between the stacks that create the queues, the dispatch function
 * that sends to them, the councils' consumers and the local tools: `<prefix><code>` and
 * `<prefix><code>-dlq`. Kept apart from council-queues.ts so that the stacks read it without the SQS
 * client.
 */
export const councilQueueName = (prefix: string, councilCode: string) => `${prefix}${councilCode}`;
export const councilDeadLetterQueueName = (prefix: string, councilCode: string) =>
  `${prefix}${councilCode}-dlq`;

/** Deployed: the council codes of the stage by home region (COUNCIL_HOMES, set by the stacks). */
export type CouncilHomes = Record<string, string[]>;
