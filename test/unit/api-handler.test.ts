import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ChildRecordAccessedSchema, ErrorBodySchema } from '../../functions/core/schemas';

const sample = JSON.parse(readFileSync('events/apigw-lookup.json', 'utf8')) as APIGatewayProxyEvent;
const context = { awsRequestId: 'r1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
let lookup: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

beforeAll(async () => {
  process.env.TABLE_NAME = 'unit-test-table-never-reached';
  ({ handler: lookup } = (await import('../../functions/lookup')) as never);
});

describe('the shared API handler stack (no table reached)', () => {
  it('answers 401 when no authorizer context arrived, with the documented body and headers', async () => {
    const response = await lookup(
      { ...sample, requestContext: { ...sample.requestContext, authorizer: null } },
      context,
    );
    expect(response.statusCode).toBe(401);
    expect(ErrorBodySchema.parse(JSON.parse(response.body)).error.code).toBe('UNAUTHENTICATED');
    expect(response.headers).toMatchObject({
      'Cache-Control': 'no-store',
      'X-Request-Id': sample.requestContext.requestId,
    });
  });

  it('answers 403 for a role that may not look up, before looking at the NHS number', async () => {
    const event = {
      ...sample,
      pathParameters: { nhsNumber: 'not-a-number' },
      requestContext: {
        ...sample.requestContext,
        authorizer: { ...sample.requestContext.authorizer, role: 'council' },
      },
    };
    const response = await lookup(event, context);
    expect(response.statusCode).toBe(403);
    expect(JSON.parse(response.body).error.code).toBe('FORBIDDEN');
  });

  it('answers 400 INVALID_NHS_NUMBER for an allowed caller with a bad number', async () => {
    const response = await lookup({ ...sample, pathParameters: { nhsNumber: '9990000017' } }, context);
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      error: { code: 'INVALID_NHS_NUMBER', message: 'nhsNumber must be 10 digits with a valid check digit' },
    });
  });
});

describe('sample events', () => {
  it('the sample notification matches the contract', () => {
    expect(
      ChildRecordAccessedSchema.safeParse(
        JSON.parse(readFileSync('events/council-notification.json', 'utf8')),
      ).success,
    ).toBe(true);
  });
});
