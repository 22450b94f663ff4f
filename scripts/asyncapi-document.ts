/**
 * The AsyncAPI 3 document of the council messages, built from their zod schemas
 * (functions/core/council-messages.ts), from which the dispatch function's validators are compiled, and
 * naming the queues as the stacks and the dispatch function do (functions/notify/queue-names.ts).
 */
import * as z from 'zod';
import type { ZodMiniType } from 'zod/mini';
import { ChildRecordAccessedSchema, NhsNumberSupersededSchema } from '../functions/core/council-messages';
import { councilDeadLetterQueueName, councilQueueName } from '../functions/notify/queue-names';

type JsonSchema = Record<string, unknown>;

/** The messages, by name: each is its zod schema's `id`. */
const MESSAGES: { name: string; schema: ZodMiniType; summary: string; example: Record<string, unknown> }[] = [
  {
    name: 'ChildRecordAccessed',
    schema: ChildRecordAccessedSchema,
    summary:
      'A clinician opened the record of a child (or unborn child) the council holds a visible plan for: ' +
      'one message per notifying lookup and council, listing all its visible plan types.',
    example: {
      type: 'ChildRecordAccessed',
      eventId: '01JD3Q7ZP8X4M2K9T6V5N1R0CW',
      occurredAt: '2026-11-20T02:14:09.120Z',
      councilCode: 'E09000001',
      nhsNumber: '9990000018',
      planTypes: ['CPP'],
      accessedBy: {
        userId: 'u7',
        userName: 'Dr Grace Hopper',
        roleName: 'Staff Nurse',
        organisation: 'RYY02',
        organisationName: 'Example Hospitals NHS Trust',
        setting: 'emergency-department',
      },
    },
  },
  {
    name: 'NhsNumberSuperseded',
    schema: NhsNumberSupersededSchema,
    summary:
      'The demographics service replaced an NHS number the council holds a plan for: its plans now ' +
      'live under newNhsNumber.',
    example: {
      type: 'NhsNumberSuperseded',
      eventId: '01JD3Q9K2B7C4D6E8F0G1H3J5K',
      occurredAt: '2026-11-21T09:30:00.000Z',
      councilCode: 'E09000001',
      oldNhsNumber: '9990000018',
      newNhsNumber: '9990000026',
    },
  },
];

/** JSON Schema draft 7 (what AsyncAPI schema objects extend); `example` becomes draft 7's `examples`. */
function render(schema: ZodMiniType, components: Record<string, JsonSchema>): JsonSchema {
  const json = z.toJSONSchema(schema as never, {
    io: 'output',
    unrepresentable: 'any',
    reused: 'inline',
    target: 'draft-7',
  }) as JsonSchema;
  const text = JSON.stringify(json, (key, value) => {
    if (value && typeof value === 'object' && !Array.isArray(value) && 'example' in value) {
      const { example, ...rest } = value as JsonSchema;
      return { ...rest, examples: [example] };
    }
    return key === '$schema' ? undefined : value;
  }).replaceAll('"#/definitions/', '"#/components/schemas/');
  const rendered = JSON.parse(text) as JsonSchema;
  for (const [name, definition] of Object.entries((rendered.definitions ?? {}) as Record<string, JsonSchema>))
    components[name] = definition;
  delete rendered.definitions;
  return rendered;
}

export const ASYNCAPI_PATH = 'asyncapi.json';

export function buildAsyncApiDocument(): Record<string, unknown> {
  const schemas: Record<string, JsonSchema> = {};
  const messages: Record<string, unknown> = {};
  for (const message of MESSAGES) {
    messages[message.name] = {
      name: message.name,
      title: message.name,
      summary: message.summary,
      contentType: 'application/json',
      headers: {
        type: 'object',
        description:
          'SQS message attributes (String): the message type and its eventId, so a consumer can route ' +
          'or de-duplicate without parsing the body.',
        properties: {
          type: { type: 'string', const: message.name },
          eventId: { type: 'string', minLength: 1 },
        },
        required: ['type', 'eventId'],
      },
      payload: render(message.schema, schemas),
      examples: [
        {
          name: 'example',
          headers: { type: message.name, eventId: message.example.eventId },
          payload: message.example,
        },
      ],
    };
  }
  const councilCode = {
    description: 'ODS code of the council: 3 to 10 capital letters or digits',
    examples: ['E09000001'],
  };
  const queuePrefix = {
    description:
      'The queue name prefix: deployed `child-protection-sharing-<stage>-council-`, locally `cpis-council-` ' +
      '(COUNCIL_QUEUE_NAME_PREFIX).',
    default: 'cpis-council-',
    examples: ['cpis-council-', 'child-protection-sharing-prod-council-'],
  };
  const channelMessages = Object.fromEntries(
    MESSAGES.map(({ name }) => [name, { $ref: `#/components/messages/${name}` }]),
  );
  const operationMessages = (channel: string) =>
    MESSAGES.map(({ name }) => ({ $ref: `#/channels/${channel}/messages/${name}` }));
  return {
    asyncapi: '3.1.0',
    info: {
      title: 'Child protection information sharing: council messages',
      version: '1.0.0',
      description:
        'What each council receives on its own SQS queue. `eventId` identifies one message to one council ' +
        'and is the same on every redelivery: a consumer that sees an eventId twice has seen one event. ' +
        'The body is the JSON object below; the SQS message attributes `type` and `eventId` repeat it. ' +
        'A message that the council fails to take `maxReceiveCount` times (5 deployed) moves to the ' +
        "council's dead-letter queue. docs/councils.md says how to connect a case system.",
    },
    defaultContentType: 'application/json',
    channels: {
      councilQueue: {
        address: councilQueueName('{queuePrefix}', '{councilCode}'),
        title: "A council's queue",
        description: 'One queue per council, in its home region; only that council may read it.',
        parameters: { queuePrefix, councilCode },
        messages: channelMessages,
      },
      councilDeadLetterQueue: {
        address: councilDeadLetterQueueName('{queuePrefix}', '{councilCode}'),
        title: "A council's dead-letter queue",
        description:
          "Messages the council's system failed to take maxReceiveCount times; `npm run redrive -- " +
          '--council CODE` (locally) or an SQS redrive moves them back unchanged.',
        parameters: { queuePrefix, councilCode },
        messages: channelMessages,
      },
    },
    operations: {
      receiveCouncilMessages: {
        action: 'receive',
        title: "Receive the council's messages",
        channel: { $ref: '#/channels/councilQueue' },
        messages: operationMessages('councilQueue'),
      },
      receiveDeadLetteredMessages: {
        action: 'receive',
        title: "Receive the council's dead-lettered messages",
        channel: { $ref: '#/channels/councilDeadLetterQueue' },
        messages: operationMessages('councilDeadLetterQueue'),
      },
    },
    components: { messages, schemas },
  };
}
