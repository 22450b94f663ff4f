/**
 * The store under DynamoDB faults (injected with aws-sdk-client-mock): transactions cancelled by
 * conflicts or throttling, or refused while another is in progress, are tried again with backoff, a
 * bounded number of times; condition failures are not retried; and a notifying lookup writes its access
 * record as one item (its audit event, carrying the council messages), so one never exists without the
 * others.
 */

import { TransactionCanceledException, TransactionInProgressException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { jest } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';

process.env.AWS_REGION ??= 'eu-west-2';
process.env.TABLE_NAME = 'unit-faults';

const dynamodb = mockClient(DynamoDBDocumentClient);
let store: import('../../../functions/store').Store;
let WriteConflict: typeof import('../../../functions/core/errors').WriteConflict;

beforeAll(async () => {
  const { createDocumentClient, createStore } = await import('../../../functions/store');
  ({ WriteConflict } = await import('../../../functions/core/errors'));
  store = createStore({ client: createDocumentClient(), tableName: 'unit-faults' });
});

beforeEach(() => {
  dynamodb.reset();
  jest.spyOn(Math, 'random').mockReturnValue(0); // shortest backoff
});
afterEach(() => jest.restoreAllMocks());

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

const plan = {
  nhsNumber: '9990000018',
  planType: 'CPP' as const,
  councilCode: 'E09000001',
  startDate: '2026-01-01',
  endDate: null,
  version: 1,
};
const audit = {
  subject: '9990000018',
  action: 'PLAN_CREATED' as const,
  outcome: 'SUCCESS' as const,
  actor: { sub: 'la', name: 'Case system', org: 'E09000001', role: 'council' as const },
  at: '2026-11-20T02:14:09.120Z',
  planType: 'CPP' as const,
  councilCode: 'E09000001',
};

describe('transaction retries', () => {
  it.each([
    ['a transaction conflict', () => cancelled('TransactionConflict', 'None', 'None', 'None')],
    ['throttling of an item', () => cancelled('None', 'ThrottlingError', 'None', 'None')],
    [
      'another transaction in progress',
      () => new TransactionInProgressException({ message: 'in progress', $metadata: {} }),
    ],
  ])('retries %s, sending the same items each time', async (_name, fault) => {
    dynamodb.on(TransactWriteCommand).rejectsOnce(fault()).rejectsOnce(fault()).resolves({});
    await store.plans.write(plan, undefined, audit);
    const calls = dynamodb.commandCalls(TransactWriteCommand);
    expect(calls).toHaveLength(3);
    expect(calls[1]?.args[0].input).toEqual(calls[0]?.args[0].input);
    expect(calls[2]?.args[0].input).toEqual(calls[0]?.args[0].input);
  });

  it('gives up after a bounded number of attempts, passing the cancellation on', async () => {
    dynamodb.on(TransactWriteCommand).rejects(cancelled('TransactionConflict', 'None', 'None', 'None'));
    await expect(store.plans.write(plan, undefined, audit)).rejects.toMatchObject({
      name: 'TransactionCanceledException',
    });
    expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(5);
  });

  it('does not retry a failed condition (it is an answer, not a fault)', async () => {
    dynamodb
      .on(TransactWriteCommand)
      .rejects(cancelled('None', 'ConditionalCheckFailed', 'TransactionConflict', 'None'));
    await expect(store.plans.write(plan, undefined, audit)).rejects.toBeInstanceOf(WriteConflict);
    expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });
});

describe('a notifying lookup is all or nothing', () => {
  const access = { ...audit, action: 'LOOKUP_NOTIFYING' as const, outcome: 'FOUND' as const };
  const lookup = {
    access,
    setting: 'emergency-department',
    roleName: 'Staff Nurse',
    organisationName: 'Example Hospitals NHS Trust',
    others: [],
    messages: ['E09000001', 'E08000025'].map((councilCode, i) => ({
      type: 'ChildRecordAccessed' as const,
      eventId: `01JD00000000000000000000${i}X`,
      occurredAt: '2026-11-20T02:14:09.120Z',
      councilCode,
      nhsNumber: '9990000018',
      planTypes: ['CPP' as const],
      accessedBy: {
        userId: 'u7',
        userName: 'Dr Grace Hopper',
        roleName: 'Staff Nurse',
        organisation: 'RYY02',
        organisationName: 'Example Hospitals NHS Trust',
        setting: null,
      },
    })),
  };

  it('writes one item: its audit event is the access record and carries every council message', async () => {
    dynamodb.on(PutCommand).resolves({});
    await store.audit.recordNotifyingLookup(lookup);
    const calls = dynamodb.commandCalls(PutCommand);
    expect(calls).toHaveLength(1);
    const put = calls[0]?.args[0].input;
    expect(put?.ConditionExpression).toBe('attribute_not_exists(PK)');
    expect(put?.Item).toMatchObject({
      PK: 'AUDIT#9990000018',
      SK: expect.stringMatching(/^ACCESS#2026-11-20T02:14:09\.120Z#[0-9A-Z]{26}$/),
      action: 'LOOKUP_NOTIFYING',
      setting: 'emergency-department',
      notifies: true,
      messages: lookup.messages,
    });
    expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('through a superseded number, audits both numbers in one transaction: when it fails for good, nothing was written', async () => {
    const viaOld = { ...lookup, others: [{ ...access, subject: '9990000026' }] };
    dynamodb.on(TransactWriteCommand).rejects(cancelled('ThrottlingError', 'None'));
    await expect(store.audit.recordNotifyingLookup(viaOld)).rejects.toBeDefined();
    expect(dynamodb.commandCalls(PutCommand)).toHaveLength(0);
    const calls = dynamodb.commandCalls(TransactWriteCommand);
    expect(calls).toHaveLength(5);
    const items = (calls[0]?.args[0].input.TransactItems ?? []).map((item) => item.Put?.Item);
    expect(items.map((item) => [item?.PK, String(item?.SK).split('#')[0], item?.notifies])).toEqual([
      ['AUDIT#9990000018', 'ACCESS', true],
      ['AUDIT#9990000026', 'EVENT', undefined],
    ]);
  });
});
