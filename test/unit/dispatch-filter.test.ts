/**
 * The stream's event filter patterns (tableDefinition.dispatchFilterPatterns, which the stacks hand to
 * Lambda), tried against records the way Lambda's event filtering matches them (passesDispatchFilter,
 * the local poller's filter): a wrong key or prefix would otherwise drop every notification once
 * deployed while every local test still passed.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { passesDispatchFilter } from '../../local/service';

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
  expect(passesDispatchFilter(stream)).toBe(passes);
});
