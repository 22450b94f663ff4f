import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { cachedAuthorizer } from '../../local/http-adapter';

const token = (exp: number) =>
  `Bearer h.${Buffer.from(JSON.stringify({ sub: 'u', exp })).toString('base64url')}.s`;
const event = (authorizationToken: string): APIGatewayTokenAuthorizerEvent => ({
  type: 'TOKEN',
  authorizationToken,
  methodArn: 'arn:aws:execute-api:eu-west-2:0:api/local/GET/v1/x',
});
const allow: APIGatewayAuthorizerResult = {
  principalId: 'u',
  policyDocument: { Version: '2012-10-17', Statement: [] },
};
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

it("reuses the authorizer's answer for the same token, as API Gateway's cache does", async () => {
  let calls = 0;
  const authorize = cachedAuthorizer(async () => {
    calls++;
    return allow;
  });
  const bearer = token(inAnHour());
  expect(await authorize(event(bearer))).toBe(allow);
  expect(await authorize(event(bearer))).toBe(allow);
  expect(calls).toBe(1);
  await authorize(event(token(inAnHour() + 1)));
  expect(calls).toBe(2);
});

it('asks again once the TTL has passed, and never serves an answer past the token’s expiry', async () => {
  let calls = 0;
  const counting = async () => {
    calls++;
    return allow;
  };
  const shortTtl = cachedAuthorizer(counting, 20);
  const bearer = token(inAnHour());
  await shortTtl(event(bearer));
  await new Promise((resolve) => setTimeout(resolve, 40));
  await shortTtl(event(bearer));
  expect(calls).toBe(2);

  const expired = token(Math.floor(Date.now() / 1000) - 1);
  const longTtl = cachedAuthorizer(counting);
  await longTtl(event(expired));
  await longTtl(event(expired));
  expect(calls).toBe(4);
});

it('does not cache a refusal', async () => {
  let calls = 0;
  const authorize = cachedAuthorizer(async () => {
    calls++;
    throw new Error('Unauthorized');
  });
  const bearer = token(inAnHour());
  await expect(authorize(event(bearer))).rejects.toThrow('Unauthorized');
  await expect(authorize(event(bearer))).rejects.toThrow('Unauthorized');
  expect(calls).toBe(2);
});
