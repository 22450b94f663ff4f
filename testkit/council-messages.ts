/**
 * Checks a council message body against asyncapi.json, the published contract (not against the zod
 * schemas it is generated from): what a council's own consumer would validate with. Validated with Ajv,
 * the JSON Schema validator @asyncapi/parser itself runs on.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';

const DOCUMENT_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'asyncapi.json');
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

let validators: Map<string, ValidateFunction> | undefined;

function load(): Map<string, ValidateFunction> {
  const document = JSON.parse(readFileSync(DOCUMENT_PATH, 'utf8')) as {
    components: { messages: Record<string, unknown> };
  };
  // Not strict: the document is an AsyncAPI document around JSON schemas, with keywords Ajv does not know.
  const ajv = new Ajv({ strict: false, allErrors: true, formats: { 'date-time': DATE_TIME } });
  ajv.addSchema(document, 'asyncapi.json');
  return new Map(
    Object.keys(document.components.messages).map((name) => [
      name,
      ajv.compile({ $ref: `asyncapi.json#/components/messages/${name}/payload` }),
    ]),
  );
}

/** What is wrong with a message body by the AsyncAPI document: one line per problem, none when valid. */
export function councilMessageProblems(body: unknown): string[] {
  validators ??= load();
  const type = (body as { type?: unknown } | null)?.type;
  const validate = typeof type === 'string' ? validators.get(type) : undefined;
  if (!validate) return [`type ${JSON.stringify(type)} is not a message of asyncapi.json`];
  if (validate(body)) return [];
  return (validate.errors ?? []).map(
    (error) =>
      `${error.instancePath || '/'} ${error.message ?? 'is invalid'} ${JSON.stringify(error.params)}`,
  );
}

/** Throws, naming every problem, unless the body is a valid council message by asyncapi.json. */
export function assertCouncilMessage(body: unknown): void {
  const problems = councilMessageProblems(body);
  if (problems.length > 0) {
    throw new Error(`Not a valid council message by asyncapi.json: ${problems.join('; ')}`);
  }
}

/** A message of each type, as the dispatch function sends them (for tests). */
export const SAMPLE_MESSAGES = {
  accessed: {
    type: 'ChildRecordAccessed',
    eventId: '01JD3Q7ZP8X4M2K9T6V5N1R0CW',
    occurredAt: '2026-11-20T02:14:09.120Z',
    councilCode: 'E09000001',
    nhsNumber: '9990000018',
    planTypes: ['CPP'],
    accessedBy: {
      userId: 'u7',
      userName: 'Dr Grace Hopper',
      roleName: null,
      organisation: 'RYY02',
      organisationName: null,
      setting: null,
    },
  },
  superseded: {
    type: 'NhsNumberSuperseded',
    eventId: '01JD3Q9K2B7C4D6E8F0G1H3J5K',
    occurredAt: '2026-11-21T09:30:00.000Z',
    councilCode: 'E09000001',
    oldNhsNumber: '9990000018',
    newNhsNumber: '9990000026',
  },
};
