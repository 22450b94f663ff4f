import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ChildRecordAccessedSchema } from '../../functions/core/council-messages';
import { ErrorBodySchema } from '../../functions/core/response-schemas';

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

  // Deployed, API Gateway reuses the authorizer's answer for a token for 5 minutes, past the token's
  // expiry: the context it hands on is exactly this one, with the exp the authorizer verified.
  describe("the token's expiry, checked again on every request", () => {
    const nowSeconds = () => Math.floor(Date.now() / 1000);
    // A council token on the lookup route: 403 shows the caller got past authentication, without
    // reaching the table.
    const withExp = (exp: string | undefined) => {
      const authorizer: Record<string, unknown> = {
        ...(sample.requestContext.authorizer as Record<string, unknown>),
        role: 'council',
      };
      if (exp === undefined) delete authorizer.exp;
      else authorizer.exp = exp;
      // Not a valid NHS number, so the refusal audits nothing (no table here).
      return {
        ...sample,
        pathParameters: { nhsNumber: 'not-a-number' },
        requestContext: { ...sample.requestContext, authorizer },
      };
    };

    it('answers 401 once the token expired, though the cached authorizer context still arrives', async () => {
      const response = await lookup(withExp(String(nowSeconds() - 31)), context);
      expect(response.statusCode).toBe(401);
      expect(JSON.parse(response.body).error.code).toBe('UNAUTHENTICATED');
    });

    it("honours a token for the verifier's 30 s of clock tolerance after its exp, as the authorizer does", async () => {
      expect((await lookup(withExp(String(nowSeconds() - 20)), context)).statusCode).toBe(403);
      expect((await lookup(withExp(String(nowSeconds() + 3600)), context)).statusCode).toBe(403);
    });

    it('answers 401 when the context carries no readable exp', async () => {
      for (const exp of [undefined, '', 'soon']) {
        expect((await lookup(withExp(exp), context)).statusCode).toBe(401);
      }
    });
  });

  // A warm function parses each caller's context once (ADR 0055); what it answers must not change.
  describe('claims parsed once per authorizer context', () => {
    let claimsFromAuthorizer: typeof import('../../functions/http/api-handler').claimsFromAuthorizer;
    beforeAll(async () => {
      ({ claimsFromAuthorizer } = await import('../../functions/http/api-handler'));
    });
    const base = () => ({ ...(sample.requestContext.authorizer as Record<string, unknown>) });
    const now = () => new Date();

    it('answers the same claims for the same context, frozen so that no request can change them', () => {
      const first = claimsFromAuthorizer(base(), now());
      const second = claimsFromAuthorizer(base(), now());
      expect(first).toBeDefined();
      expect(second).toBe(first);
      expect(Object.isFrozen(first)).toBe(true);
      const activities = first?.activities as string[];
      expect(Object.isFrozen(activities)).toBe(true);
      expect(activities).toEqual(['B0107']);
      expect(() => activities.push('B0360')).toThrow(TypeError);
    });

    it('still refuses the same context once its token has expired', () => {
      const context = { ...base(), exp: String(Math.floor(Date.now() / 1000) + 60) };
      expect(claimsFromAuthorizer(context, now())).toBeDefined();
      expect(claimsFromAuthorizer(context, new Date(Date.now() + 10 * 60_000))).toBeUndefined();
    });

    it("never answers one caller's claims for another's context", () => {
      const ada = claimsFromAuthorizer(base(), now());
      const otherOrg = claimsFromAuthorizer({ ...base(), org: 'RYY99' }, now());
      const otherCodes = claimsFromAuthorizer({ ...base(), activities: JSON.stringify(['B0170']) }, now());
      const otherRole = claimsFromAuthorizer({ ...base(), role: 'council' }, now());
      expect(otherOrg?.org).toBe('RYY99');
      expect(otherCodes?.activities).toEqual(['B0170']);
      expect(otherRole?.role).toBe('council');
      expect(ada?.org).not.toBe('RYY99');
      expect(ada?.activities).not.toEqual(['B0170']);
    });

    it('refuses a context that does not parse, and keeps refusing it', () => {
      const broken = { ...base(), activities: '[not json' };
      expect(claimsFromAuthorizer(broken, now())).toBeUndefined();
      expect(claimsFromAuthorizer(broken, now())).toBeUndefined();
      expect(claimsFromAuthorizer({ ...base(), role: 'no-such-role' }, now())).toBeUndefined();
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
