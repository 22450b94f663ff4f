import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { CouncilMessage } from '../core/schemas';
import { CouncilWithoutQueue, stageCouncilCodes } from './stage-councils';

/** fauxqs answers with *.localhost queue URLs, so the client keeps its configured endpoint. */
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });

const resolved = new Map<string, string>();
let configuredUrls: Record<string, string> | null | undefined;

/** Deployed: the queues of the councils homed in this region, by council code, from the stack. */
function configuredQueueUrls(): Record<string, string> | null {
  configuredUrls ??= process.env.COUNCIL_QUEUE_URLS
    ? (JSON.parse(process.env.COUNCIL_QUEUE_URLS) as Record<string, string>)
    : null;
  return configuredUrls;
}

export const councilQueueName = (prefix: string, councilCode: string) => `${prefix}${councilCode}`;
export const councilDeadLetterQueueName = (prefix: string, councilCode: string) =>
  `${prefix}${councilCode}-dlq`;

/**
 * The queue of a council homed in this region; undefined when the council is homed in another region
 * (whose own dispatch function delivers it from its replica of the table). Throws CouncilWithoutQueue
 * for a council no region of the stage serves, rather than passing it off as homed elsewhere.
 */
export async function councilQueueUrl(councilCode: string): Promise<string | undefined> {
  const configured = configuredQueueUrls();
  if (configured) {
    const url = configured[councilCode];
    if (url) return url;
    const stage = stageCouncilCodes();
    if (stage && !stage.has(councilCode)) throw new CouncilWithoutQueue(councilCode);
    return undefined;
  }
  const known = resolved.get(councilCode);
  if (known) return known;
  const result = await sqs.send(
    new GetQueueUrlCommand({
      QueueName: councilQueueName(process.env.COUNCIL_QUEUE_NAME_PREFIX ?? 'cpis-council-', councilCode),
    }),
  );
  if (!result.QueueUrl) throw new Error('GetQueueUrl returned no URL');
  resolved.set(councilCode, result.QueueUrl);
  return result.QueueUrl;
}

/**
 * SQS accepts only #x9, #xA, #xD, #x20-#xD7FF, #xE000-#xFFFD (and, on AWS, astral characters).
 * Any other UTF-16 unit is written as a JSON \u escape: consumers parse the very same text.
 */
export function sqsSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]/g,
    (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export async function sendToCouncil(queueUrl: string, message: CouncilMessage): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: sqsSafeJson(message),
      MessageAttributes: {
        type: { DataType: 'String', StringValue: message.type },
        eventId: { DataType: 'String', StringValue: message.eventId },
      },
    }),
  );
}
