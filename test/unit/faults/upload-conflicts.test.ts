/**
 * A bulk upload whose plans change under it (injected with aws-sdk-client-mock: the first transaction is
 * refused by a condition, as DynamoDB refuses it when another writer got there between the upload's read
 * and its write). The upload reads those rows again and decides them afresh, so it answers 200 with what
 * the table now holds, never a 409 with part of the file applied; only plans that keep changing through
 * every round get the 409.
 */
import { readFileSync } from 'node:fs';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';

process.env.AWS_REGION ??= 'eu-west-2';
process.env.TABLE_NAME = 'unit-upload-conflicts';
process.env.PLAN_WRITE_CONCURRENCY = '1';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

const COUNCIL = 'E09000001';
const A = '9990000018';
const B = '9990000026';
const dynamodb = mockClient(DynamoDBDocumentClient);
const context = { awsRequestId: 'r1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
const sample = JSON.parse(readFileSync('events/apigw-lookup.json', 'utf8')) as APIGatewayProxyEvent;

/** The items the fake table holds, by PK and SK. */
let items: Map<string, Record<string, unknown>>;
const put = (item: Record<string, unknown>) => items.set(`${item.PK}|${item.SK}`, item);
const planOf = (nhsNumber: string, startDate: string, version: number) => ({
  PK: `CHILD#${nhsNumber}`,
  SK: `PLAN#${COUNCIL}#CPP`,
  kind: 'PLAN',
  nhsNumber,
  planType: 'CPP',
  councilCode: COUNCIL,
  startDate,
  version,
});
/** Every TransactWriteItems sent, and what the next ones answer (then, once these run out: success). */
let sent: Record<string, unknown>[][];
let refusals: (() => Error)[];

const refusedAt = (index: number, count: number, item?: Record<string, unknown>) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled, please refer cancellation reasons for specific reasons',
    $metadata: {},
    CancellationReasons: Array.from({ length: count }, (_, i) =>
      i === index
        ? { Code: 'ConditionalCheckFailed', ...(item ? { Item: item as never } : {}) }
        : { Code: 'None' },
    ),
  });

beforeEach(() => {
  items = new Map();
  sent = [];
  refusals = [];
  put({
    PK: `COUNCIL#${COUNCIL}`,
    SK: 'PROFILE',
    kind: 'COUNCIL',
    code: COUNCIL,
    name: 'Council',
    emergencyDutyPhone: '0161 234 5678',
  });
  dynamodb.reset();
  dynamodb.on(BatchGetCommand).callsFake((input) => {
    const requests = input.RequestItems as Record<string, { Keys: { PK: string; SK: string }[] }>;
    const Responses = Object.fromEntries(
      Object.entries(requests).map(([table, request]) => [
        table,
        request.Keys.map((key) => items.get(`${key.PK}|${key.SK}`)).filter(Boolean),
      ]),
    );
    return { Responses };
  });
  dynamodb.on(TransactWriteCommand).callsFake((input) => {
    const transaction = (input.TransactItems as Record<string, unknown>[]) ?? [];
    sent.push(transaction);
    const refusal = refusals.shift();
    if (refusal) throw refusal();
    return {};
  });
});

async function upload(csv: string): Promise<{ status: number; body: any }> {
  const { handler } = await import('../../../functions/upload');
  const event: APIGatewayProxyEvent = {
    ...sample,
    resource: '/v1/councils/{councilCode}/uploads',
    path: `/v1/councils/${COUNCIL}/uploads`,
    httpMethod: 'POST',
    headers: { 'Content-Type': 'text/csv' },
    multiValueHeaders: { 'Content-Type': ['text/csv'] },
    queryStringParameters: { mode: 'delta' },
    multiValueQueryStringParameters: { mode: ['delta'] },
    pathParameters: { councilCode: COUNCIL },
    body: csv,
    requestContext: {
      ...sample.requestContext,
      resourcePath: '/v1/councils/{councilCode}/uploads',
      httpMethod: 'POST',
      authorizer: {
        ...(sample.requestContext.authorizer as Record<string, unknown>),
        role: 'council',
        org: COUNCIL,
        activities: '[]',
        setting: '',
      },
    },
  };
  const response = (await handler(event, context)) as APIGatewayProxyResult;
  return { status: response.statusCode, body: JSON.parse(response.body) };
}

const FILE = `nhsNumber,planType,startDate,endDate\n${A},CPP,2026-01-01,\n${B},CPP,2026-02-01,\n`;
/** The NHS numbers whose plans a transaction puts. */
const plansPut = (transaction: Record<string, unknown>[]) =>
  transaction
    .map((item) => (item.Put as { Item: Record<string, unknown> } | undefined)?.Item)
    .filter((item) => item?.kind === 'PLAN')
    .map((item) => item?.nhsNumber);

it('decides again the rows a concurrent write got to first, and answers what the table holds', async () => {
  // Another writer creates A's plan, with the very values of the file, before the upload's transaction.
  refusals.push(() => {
    put(planOf(A, '2026-01-01', 1));
    return refusedAt(0, 6);
  });
  const response = await upload(FILE);
  expect(response.status).toBe(200);
  expect(response.body).toMatchObject({ status: 'ALL_ACCEPTED', accepted: 2, rejected: 0 });
  expect(response.body.results).toEqual([
    { row: 1, nhsNumber: A, planType: 'CPP', outcome: 'UNCHANGED' },
    { row: 2, nhsNumber: B, planType: 'CPP', outcome: 'CREATED' },
  ]);
  expect(sent.map(plansPut)).toEqual([[A, B], [B]]);
});

it('rejects a row whose number was superseded meanwhile, and writes the others', async () => {
  refusals.push(() => {
    put({ PK: `CHILD#${A}`, SK: 'STATUS', kind: 'STATUS', newNhsNumber: '9990000034' });
    // A's status check, the third item of the transaction, returns the item that refused it.
    return refusedAt(2, 6, { newNhsNumber: { S: '9990000034' } });
  });
  const response = await upload(FILE);
  expect(response.status).toBe(200);
  expect(response.body.results[0]).toEqual({
    row: 1,
    nhsNumber: A,
    planType: 'CPP',
    outcome: 'REJECTED',
    code: 'NHS_NUMBER_SUPERSEDED',
    message: expect.stringContaining('9990000034'),
  });
  expect(response.body.results[1].outcome).toBe('CREATED');
  expect(sent.map(plansPut)).toEqual([[A, B], [B]]);
});

it('answers 409 only when the plans keep changing through every round', async () => {
  let version = 0;
  // Another writer changes A's plan before every transaction that writes it; B's rows land.
  dynamodb.on(TransactWriteCommand).callsFake((input) => {
    const transaction = (input.TransactItems as Record<string, unknown>[]) ?? [];
    sent.push(transaction);
    const at = plansPut(transaction).indexOf(A);
    if (at < 0) return {};
    version++;
    put(planOf(A, `2025-0${version}-01`, version));
    return Promise.reject(refusedAt(at * 3, transaction.length));
  });
  const response = await upload(FILE);
  expect(response.status).toBe(409);
  expect(response.body.error.code).toBe('CONFLICT');
  // The first transaction again without A (it lands), then A alone in each later round.
  expect(sent.map(plansPut)).toEqual([[A, B], [B], [A], [A]]);
});
