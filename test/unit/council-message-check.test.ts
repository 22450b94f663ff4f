/**
 * The dispatch function checks council messages with validators compiled from asyncapi.json, not with
 * the zod schemas the document is rendered from (docs/adr/0059). Both must give the same answer for
 * every value a stream record can carry, or dispatch would send what the contract forbids or drop what
 * it allows.
 */
import fc from 'fast-check';
import { CouncilMessageSchema } from '../../functions/core/council-messages';
import { checkCouncilMessage } from '../../functions/notify/council-message-check';
import { SAMPLE_MESSAGES } from '../../testkit/council-messages';

const { accessed, superseded } = SAMPLE_MESSAGES;

/** Values that some field of some message accepts, and values none does (or only some do). */
const anyValue = fc.oneof(
  fc.constantFrom(
    '',
    'x',
    'E09000001',
    'e09000001',
    'E0900000112',
    '9990000018',
    '999000001',
    '99900000189',
    '999000001８',
    'CPP',
    'XYZ',
    'ChildRecordAccessed',
    'NhsNumberSuperseded',
    '2026-11-20T02:14:09.120Z',
    'yesterday',
    '\u{1F600}',
    null,
    0,
    true,
    [],
    ['CPP'],
    ['CPP', 'UCPP'],
    ['XYZ'],
    [''],
    {},
  ),
  fc.string({ maxLength: 12 }),
  fc.anything({ maxDepth: 2 }),
);
const field = (value: unknown) =>
  fc.oneof({ weight: 30, arbitrary: fc.constant(value) }, anyValue, fc.constant(undefined));

/** A message with each field kept, replaced or left out; now and then a field the schema does not know. */
const mutated = (message: Record<string, unknown>): fc.Arbitrary<unknown> =>
  fc
    .record({
      fields: fc.record(
        Object.fromEntries(
          Object.entries(message).map(([key, value]) => [
            key,
            value && typeof value === 'object' && !Array.isArray(value)
              ? fc.oneof({ weight: 4, arbitrary: mutated(value as Record<string, unknown>) }, field(value))
              : field(value),
          ]),
        ),
      ),
      extra: fc.oneof(
        { weight: 7, arbitrary: fc.constant(null) },
        fc.tuple(fc.constantFrom('childName', 'type2', '__proto__', 'constructor'), anyValue),
      ),
    })
    .map(({ fields, extra }) => {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
      if (extra) Object.defineProperty(out, extra[0], { value: extra[1], enumerable: true, writable: true });
      return out;
    });

const accepts = (value: unknown) => checkCouncilMessage(value).issues === undefined;

describe('the dispatch function’s council message check', () => {
  it('accepts exactly what the zod message schemas accept', () => {
    let acceptedByBoth = 0;
    fc.assert(
      fc.property(fc.oneof(mutated(accessed), mutated(superseded), fc.anything({ maxDepth: 3 })), (value) => {
        const expected = CouncilMessageSchema.safeParse(value).success;
        expect(accepts(value)).toBe(expected);
        if (expected) acceptedByBoth++;
      }),
      { numRuns: 3000 },
    );
    // The generator reaches both answers, so agreement is not agreement on refusals only.
    expect(acceptedByBoth).toBeGreaterThan(300);
  });

  it('passes a good message on as it came, and says where a bad one is wrong without its values', () => {
    expect(checkCouncilMessage(accessed)).toEqual({ message: accessed });
    expect(checkCouncilMessage(superseded).issues).toBeUndefined();
    const { eventId: _, ...withoutEventId } = accessed;
    expect(
      checkCouncilMessage({
        ...withoutEventId,
        nhsNumber: '999000001',
        accessedBy: { ...accessed.accessedBy, userId: 7 },
        childName: 'Amelia Testchild',
      }).issues,
    ).toEqual(
      expect.arrayContaining([
        { path: 'eventId', code: 'required' },
        { path: 'nhsNumber', code: 'pattern' },
        { path: 'accessedBy.userId', code: 'type' },
        { path: '', code: 'additionalProperties' },
      ]),
    );
    expect(checkCouncilMessage({ ...superseded, type: 'ChildRecordDeleted' }).issues).toEqual([
      { path: 'type', code: 'discriminator' },
    ]);
    expect(checkCouncilMessage({ ...superseded, type: 'toString' }).issues).toEqual([
      { path: 'type', code: 'discriminator' },
    ]);
    for (const notAnObject of [null, 'ChildRecordAccessed', [accessed], 42])
      expect(checkCouncilMessage(notAnObject).issues).toEqual([{ path: '', code: 'type' }]);
  });
});
