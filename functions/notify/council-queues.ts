import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { CouncilMessage } from '../core/schemas';
import { type CouncilHomes, councilQueueName } from './queue-names';
import { CouncilWithoutQueue } from './stage-councils';

export { councilDeadLetterQueueName, councilQueueName } from './queue-names';

/** fauxqs answers with *.localhost queue URLs, so the client keeps its configured endpoint. */
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });

const resolved = new Map<string, string>();

interface DeployedQueues {
  /** Queue URL of a council homed here, less its code: `https://sqs.<region>.<suffix>/<account>/<prefix>`. */
  urlPrefix: string;
  homedHere: ReadonlySet<string>;
  homedElsewhere: ReadonlySet<string>;
}
let deployed: DeployedQueues | null | undefined;

/**
 * Deployed, the stacks give every council of the stage by home region (COUNCIL_HOMES) and this
 * region's queue URL prefix (COUNCIL_QUEUE_URL_PREFIX): the queue names follow from the codes, so the
 * environment stays within Lambda's 4 KB however many councils a region homes. Locally both are unset.
 */
function deployedQueues(): DeployedQueues | null {
  if (deployed !== undefined) return deployed;
  const homes = process.env.COUNCIL_HOMES;
  const urlPrefix = process.env.COUNCIL_QUEUE_URL_PREFIX;
  if (homes === undefined && urlPrefix === undefined) {
    deployed = null;
    return deployed;
  }
  let parsed: unknown;
  try {
    parsed = homes === undefined ? undefined : JSON.parse(homes);
  } catch {
    parsed = undefined;
  }
  const valid =
    typeof parsed === 'object' &&
    parsed !== null &&
    !Array.isArray(parsed) &&
    Object.values(parsed).every(
      (codes) => Array.isArray(codes) && codes.every((code) => typeof code === 'string' && code !== ''),
    );
  if (!valid || !urlPrefix || !/^https?:\/\//.test(urlPrefix) || !process.env.AWS_REGION) {
    throw new Error(
      'The dispatch function needs COUNCIL_HOMES (a JSON object of council codes by region, e.g. {"eu-west-2":["E09000001"]}), COUNCIL_QUEUE_URL_PREFIX (https://sqs.<region>.amazonaws.com/<account>/<queue name prefix>) and AWS_REGION; the stacks set all three',
    );
  }
  const byRegion = parsed as CouncilHomes;
  const region = process.env.AWS_REGION;
  deployed = {
    urlPrefix,
    homedHere: new Set(byRegion[region] ?? []),
    homedElsewhere: new Set(
      Object.entries(byRegion).flatMap(([home, codes]) => (home === region ? [] : codes)),
    ),
  };
  return deployed;
}

/**
 * The queue of a council homed in this region; undefined when the council is homed in another region
 * (whose own dispatch function delivers it from its replica of the table). Throws CouncilWithoutQueue
 * for a council no region of the stage serves, rather than passing it off as homed elsewhere.
 */
export async function councilQueueUrl(councilCode: string): Promise<string | undefined> {
  const queues = deployedQueues();
  if (queues) {
    if (queues.homedHere.has(councilCode)) return `${queues.urlPrefix}${councilCode}`;
    if (queues.homedElsewhere.has(councilCode)) return undefined;
    throw new CouncilWithoutQueue(councilCode);
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
