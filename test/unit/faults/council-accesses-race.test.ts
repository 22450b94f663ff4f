/**
 * A council's read of a child's accesses when its plan stops being visible between the permission check
 * and the read (injected with aws-sdk-client-mock: the first Query of the child finds the plan, the
 * second does not): nothing is shown, the answer is 403 and the refusal is recorded, as for a council
 * refused at the check; no COUNCIL_VIEWED_ACCESSES event is written.
 */
import { readFileSync } from 'node:fs';
import { DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';

process.env.TABLE_NAME = 'unit-council-accesses';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

const dynamodb = mockClient(DynamoDBDocumentClient);
const context = { awsRequestId: 'r1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
const sample = JSON.parse(readFileSync('events/apigw-lookup.json', 'utf8')) as APIGatewayProxyEvent;
const COUNCIL = 'E09000001';
const CHILD = '9990000018';

const event: APIGatewayProxyEvent = {
  ...sample,
  resource: '/v1/councils/{councilCode}/children/{nhsNumber}/accesses',
  path: `/v1/councils/${COUNCIL}/children/${CHILD}/accesses`,
  pathParameters: { councilCode: COUNCIL, nhsNumber: CHILD },
  requestContext: {
    ...sample.requestContext,
    authorizer: {
      principalId: 'la-system',
      exp: '4102444800',
      sub: 'la-system',
      name: 'Example case system',
      org: COUNCIL,
      role: 'council',
      activities: '[]',
    },
  },
};

const planItem = {
  PK: `CHILD#${CHILD}`,
  SK: `PLAN#${COUNCIL}#CPP`,
  nhsNumber: CHILD,
  planType: 'CPP',
  councilCode: COUNCIL,
  startDate: '2026-01-01',
  version: 1,
};

it('refuses with 403 and records the refusal when the plan is gone by the time of the read', async () => {
  dynamodb
    .on(QueryCommand)
    .resolvesOnce({ Items: [planItem] })
    .resolves({ Items: [] });
  dynamodb.on(UpdateCommand).resolves({});
  dynamodb.on(PutCommand).resolves({});
  const { handler } = (await import('../../../functions/council-accesses')) as unknown as {
    handler: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
  };
  const response = await handler(event, context);
  expect({ status: response.statusCode, code: JSON.parse(response.body).error.code }).toEqual({
    status: 403,
    code: 'FORBIDDEN',
  });
  // Two reads of the child (the check, then the read), no access history read, nothing put.
  expect(dynamodb.commandCalls(QueryCommand)).toHaveLength(2);
  expect(dynamodb.commandCalls(PutCommand)).toHaveLength(0);
  const refusals = dynamodb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
  expect(refusals).toHaveLength(1);
  expect(refusals[0]?.Key?.PK).toBe(`REFUSALS#${CHILD}`);
  expect(refusals[0]?.ExpressionAttributeValues?.[':action']).toBe('ACCESS_DENIED');
});
