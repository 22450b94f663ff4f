/**
 * The stream's event filter patterns (tableDefinition.dispatchFilterPatterns, which the stacks hand to
 * Lambda), tried against records the way Lambda's event filtering matches them (passesDispatchFilter,
 * the local poller's filter): a wrong key or prefix would otherwise drop every notification once
 * deployed while every local test still passed.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { passesDispatchFilter } from '../../local/service';

const record = (
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
  pk: string,
  newImage?: Record<string, unknown>,
): DynamoDBRecord => ({
  eventName,
  eventSource: 'aws:dynamodb',
  dynamodb: {
    Keys: { PK: { S: pk }, SK: { S: 'X' } },
    ...(newImage ? { NewImage: { PK: { S: pk }, SK: { S: 'X' }, ...newImage } as never } : {}),
    SequenceNumber: '1',
    StreamViewType: 'NEW_AND_OLD_IMAGES',
  },
});
const carrying = { notifies: { BOOL: true }, messages: { L: [] } };

it.each([
  ['an audit event carrying messages, inserted', record('INSERT', 'AUDIT#9990000018', carrying), true],
  ['an audit event carrying none', record('INSERT', 'AUDIT#9990000018', { kind: { S: 'AUDIT' } }), false],
  [
    'an audit event marked not notifying',
    record('INSERT', 'AUDIT#9990000018', { notifies: { BOOL: false } }),
    false,
  ],
  [
    'a notifies flag written as a string',
    record('INSERT', 'AUDIT#9990000018', { notifies: { S: 'true' } }),
    false,
  ],
  ['a plan insert carrying messages', record('INSERT', 'CHILD#9990000018', carrying), false],
  ['a plan change', record('MODIFY', 'CHILD#9990000018', carrying), false],
  ['a plan delete', record('REMOVE', 'CHILD#9990000018'), false],
  ['an audit event replaced', record('MODIFY', 'AUDIT#9990000018', carrying), true],
  ['an audit event removed', record('REMOVE', 'AUDIT#9990000018'), true],
  ['a council profile change', record('MODIFY', 'COUNCIL#E09000001'), false],
])('%s: %s', (_name, stream, passes) => {
  expect(passesDispatchFilter(stream)).toBe(passes);
});
