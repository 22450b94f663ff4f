import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { CouncilMessage } from '../core/schemas';
import { type CouncilHomes, councilQueueName } from './queue-names';

export { councilDeadLetterQueueName, councilQueueName } from './queue-names';

/** A message for a council that no region of the stage has a queue for: it cannot be delivered. */
export class CouncilWithoutQueue extends Error {
  constructor(readonly councilCode: string) {
    super(`council ${councilCode} has no queue in any region of this stage`);
    this.name = 'CouncilWithoutQueue';
  }
}

/** fauxqs answers with *.localhost queue URLs, so the client keeps its configured endpoint. */
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });

interface DeployedQueues {
  /** Queue URL of a council homed here, less its code: `https://sqs.<region>.<suffix>/<account>/<prefix>`. */
  urlPrefix: string;
  homedHere: ReadonlySet<string>;
  homedElsewhere: ReadonlySet<string>;
}

/** The dispatch function's queue settings, as its environment schema checked them. */
export interface CouncilQueueSettings {
  COUNCIL_HOMES?: string;
  COUNCIL_QUEUE_URL_PREFIX?: string;
  COUNCIL_QUEUE_NAME_PREFIX: string;
  AWS_REGION?: string;
}

/**
 * Where each council's messages go. Deployed, the stacks give every council of the stage by home region
 * (COUNCIL_HOMES) and this region's queue URL prefix: queue names follow from the codes, so the
 * environment stays within Lambda's 4 KB however many councils a region homes. Locally both are unset
 * and queues are found by name.
 */
export class CouncilQueues {
  private readonly deployed: DeployedQueues | undefined;
  private readonly resolved = new Map<string, string>();

  constructor(private readonly settings: CouncilQueueSettings) {
    if (settings.COUNCIL_HOMES === undefined || settings.COUNCIL_QUEUE_URL_PREFIX === undefined) return;
    const byRegion = JSON.parse(settings.COUNCIL_HOMES) as CouncilHomes;
    const region = settings.AWS_REGION ?? '';
    this.deployed = {
      urlPrefix: settings.COUNCIL_QUEUE_URL_PREFIX,
      homedHere: new Set(byRegion[region] ?? []),
      homedElsewhere: new Set(
        Object.entries(byRegion).flatMap(([home, codes]) => (home === region ? [] : codes)),
      ),
    };
  }

  /**
   * The queue of a council homed in this region; undefined when the council is homed in another region
   * (whose own dispatch function delivers it from its replica of the table). Throws CouncilWithoutQueue
   * for a council no region of the stage serves, rather than passing it off as homed elsewhere.
   */
  async queueUrl(councilCode: string): Promise<string | undefined> {
    const queues = this.deployed;
    if (queues) {
      if (queues.homedHere.has(councilCode)) return `${queues.urlPrefix}${councilCode}`;
      if (queues.homedElsewhere.has(councilCode)) return undefined;
      throw new CouncilWithoutQueue(councilCode);
    }
    const known = this.resolved.get(councilCode);
    if (known) return known;
    const result = await sqs.send(
      new GetQueueUrlCommand({
        QueueName: councilQueueName(this.settings.COUNCIL_QUEUE_NAME_PREFIX, councilCode),
      }),
    );
    if (!result.QueueUrl) throw new Error('GetQueueUrl returned no URL');
    this.resolved.set(councilCode, result.QueueUrl);
    return result.QueueUrl;
  }
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
