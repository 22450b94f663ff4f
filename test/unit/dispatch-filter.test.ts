/**
 * The stream's event filter patterns (tableDefinition.dispatchFilterPatterns), tried against records as
 * Lambda's event filtering would try them, and the local poller's stand-in (passesDispatchFilter),
 * which must give the same answers: a wrong key or prefix would otherwise drop every notification once
 * deployed while every local test still passed.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { tableDefinition } from '../../functions/store/table-definition';
import { passesDispatchFilter } from '../../local/service';

/**
 * Lambda's matching for the syntax these patterns use: every key of the pattern must be in the record;
 * an array lists the values allowed (exact strings, or `{ prefix }`); an object matches one level down.
 */
function matches(pattern: unknown, value: unknown): boolean {
  if (Array.isArray(pattern)) {
    return pattern.some((allowed) =>
      typeof allowed === 'string'
        ? value === allowed
        : typeof value === 'string' && value.startsWith((allowed as { prefix: string }).prefix),
    );
  }
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(pattern as Record<string, unknown>).every(([key, inner]) =>
    matches(inner, (value as Record<string, unknown>)[key]),
  );
}

const record = (eventName: 'INSERT' | 'MODIFY' | 'REMOVE', pk: string): DynamoDBRecord => ({
  eventName,
  eventSource: 'aws:dynamodb',
  dynamodb: {
    Keys: { PK: { S: pk }, SK: { S: 'X' } },
    SequenceNumber: '1',
    StreamViewType: 'NEW_AND_OLD_IMAGES',
  },
});

it.each([
  ['an outbox insert', record('INSERT', 'OUTBOX#01JD7Q0Z8M3X4V5B6N7M8K9J0H'), true],
  ['an outbox TTL delete', record('REMOVE', 'OUTBOX#01JD7Q0Z8M3X4V5B6N7M8K9J0H'), false],
  ['an outbox change', record('MODIFY', 'OUTBOX#01JD7Q0Z8M3X4V5B6N7M8K9J0H'), false],
  ['a plan or access insert', record('INSERT', 'CHILD#9990000018'), false],
  ['a plan change', record('MODIFY', 'CHILD#9990000018'), false],
  ['a plan delete', record('REMOVE', 'CHILD#9990000018'), false],
  ['an audit event appended', record('INSERT', 'AUDIT#9990000018'), false],
  ['an audit event replaced', record('MODIFY', 'AUDIT#9990000018'), true],
  ['an audit event removed', record('REMOVE', 'AUDIT#9990000018'), true],
  ['a council profile change', record('MODIFY', 'COUNCIL#E09000001'), false],
])('%s: %s', (_name, stream, passes) => {
  expect(tableDefinition.dispatchFilterPatterns.some((pattern) => matches(pattern, stream))).toBe(passes);
  expect(passesDispatchFilter(stream)).toBe(passes);
});
