import { readFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';
import { CouncilMessageSchema } from '../../functions/core/council-messages';
import { buildAsyncApiDocument } from '../../scripts/asyncapi-document';
import { councilMessageProblems, SAMPLE_MESSAGES } from '../../testkit/council-messages';

const committed = JSON.parse(readFileSync('asyncapi.json', 'utf8'));

const { accessed, superseded } = SAMPLE_MESSAGES;

describe('asyncapi.json', () => {
  it("is a valid AsyncAPI 3 document by the AsyncAPI project's own parser", async () => {
    const { document, diagnostics } = await new Parser().parse(committed);
    expect(diagnostics.filter((diagnostic) => diagnostic.severity <= 1)).toEqual([]);
    expect(document?.version()).toMatch(/^3\./);
    const channels = document?.channels().all() ?? [];
    expect(channels.map((channel) => channel.address())).toEqual([
      '{queuePrefix}{councilCode}',
      '{queuePrefix}{councilCode}-dlq',
    ]);
    expect(
      document
        ?.operations()
        .all()
        .map((operation) => operation.action()),
    ).toEqual(['receive', 'receive']);
    expect(
      document
        ?.messages()
        .all()
        .map((message) => message.name()),
    ).toEqual(expect.arrayContaining(['ChildRecordAccessed', 'NhsNumberSuperseded']));
  });

  it('is up to date with the message schemas (run `npm run asyncapi` after changing them)', () => {
    expect(committed).toEqual(JSON.parse(JSON.stringify(buildAsyncApiDocument())));
  });

  it('accepts the messages the dispatch function sends, as its own schema does', () => {
    for (const message of [accessed, superseded]) {
      expect(CouncilMessageSchema.safeParse(message).success).toBe(true);
      expect(councilMessageProblems(message)).toEqual([]);
    }
  });

  it.each(['eventId', 'occurredAt', 'councilCode', 'nhsNumber', 'planTypes', 'accessedBy'])(
    'refuses a ChildRecordAccessed missing %s',
    (field) => {
      const { [field as keyof typeof accessed]: _, ...missing } = accessed;
      expect(councilMessageProblems(missing)).toEqual([expect.stringContaining(`'${field}'`)]);
    },
  );

  it('refuses a message missing a nested field, with a bad value, an unknown field or type', () => {
    const { userId: _, ...anonymous } = accessed.accessedBy;
    expect(councilMessageProblems({ ...accessed, accessedBy: anonymous })).toEqual([
      expect.stringContaining("'userId'"),
    ]);
    const { newNhsNumber: __, ...half } = superseded;
    expect(councilMessageProblems(half)).toEqual([expect.stringContaining("'newNhsNumber'")]);
    expect(councilMessageProblems({ ...accessed, planTypes: ['XYZ'] })).not.toEqual([]);
    expect(councilMessageProblems({ ...accessed, occurredAt: 'yesterday' })).not.toEqual([]);
    expect(councilMessageProblems({ ...accessed, extra: 1 })).not.toEqual([]);
    expect(councilMessageProblems({ ...accessed, type: 'Other' })).not.toEqual([]);
  });
});
