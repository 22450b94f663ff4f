/**
 * API Gateway TOKEN authorizer: verifies the bearer JWT (signature, issuer, audience, expiry,
 * algorithm), for a CIS2 token resolves the selected role through UserInfo, and hands the claims to
 * the API functions as authorizer context.
 */
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent, Context } from 'aws-lambda';
import type { Claims } from './core/claims';
import { readAuthorizerSettings } from './http/authorizer-settings';
import { checkClaims } from './http/claims-check';
import { TokenVerifier } from './http/tokens';

// Checked when the function starts: without issuers it would refuse every token, so it refuses to start
// instead. JWT_ISSUERS comes back as the checked issuer list, read once. Neither this nor the claims
// check loads zod, most of what this function's cold start added to the token checks (docs/adr/0059).
const env = readAuthorizerSettings();

let verifier: TokenVerifier | undefined;
function getVerifier(): TokenVerifier {
  verifier ??= new TokenVerifier(env.JWT_ISSUERS, env.JWT_AUDIENCE);
  return verifier;
}

/**
 * The logger, with this invocation's context, for a refusal: an allowed token logs nothing, so
 * Powertools Logger is loaded on the refusal path only, which keeps the cold start lean (ADR 0055).
 */
async function refusalLogger(context: Context) {
  const { logger } = await import('./observability');
  logger.addContext(context);
  return logger;
}

/**
 * Counts a refusal because an identity service could not be reached, for the alarm. Powertools
 * Metrics is loaded on this path only, so the authorizer's cold start stays lean.
 */
async function countUnreachable(): Promise<void> {
  const [{ metrics, publishMetrics, METRIC_NAMES }, { MetricUnit }] = await Promise.all([
    import('./metrics'),
    import('@aws-lambda-powertools/metrics'),
  ]);
  metrics.addMetric(METRIC_NAMES.identityServiceUnreachable, MetricUnit.Count, 1);
  publishMetrics();
}

/** Allows the whole API: the cached policy serves every route, and each function checks its own rules. */
function apiWildcard(methodArn: string): string {
  const [prefix, stage] = methodArn.split('/');
  return `${prefix}/${stage}/*`;
}

/**
 * The claims, and the token's expiry: API Gateway reuses this answer for every request bearing the same
 * token for the cache's TTL, even past the token's `exp`, so the API functions check `exp` themselves.
 */
export function authorizerContext(claims: Claims, exp: number): Record<string, string> {
  return {
    exp: String(exp),
    sub: claims.sub,
    name: claims.name,
    org: claims.org,
    role: claims.role,
    // JSON, not comma-joined: a claim can hold no character that splits it into two codes.
    activities: JSON.stringify(claims.activities),
    setting: claims.setting ?? '',
    roleName: claims.roleName ?? '',
    orgName: claims.orgName ?? '',
  };
}

async function authorize(
  event: APIGatewayTokenAuthorizerEvent,
  context: Context,
): Promise<APIGatewayAuthorizerResult> {
  const match = /^Bearer ([A-Za-z0-9_.-]+)$/i.exec(event.authorizationToken ?? '');
  const verification = match?.[1] ? await getVerifier().check(match[1]) : undefined;
  const payload = verification && 'payload' in verification ? verification.payload : undefined;
  const claims = payload ? checkClaims(payload) : undefined;
  // The verifier requires exp; checked again here because the context must carry it.
  if (!claims || typeof payload?.exp !== 'number') {
    // Why, never what: no token, claim or name is logged.
    const reason = !verification
      ? 'not-a-bearer-token'
      : 'refused' in verification
        ? verification.refused
        : 'claims-invalid';
    const logger = await refusalLogger(context);
    if (
      verification &&
      'refused' in verification &&
      verification.refused === 'identity-service-unreachable'
    ) {
      // The caller may be entitled: this is the identity service's failure, not the caller's.
      logger.error('Identity service unreachable: token refused', { reason, issuer: verification.issuer });
      await countUnreachable().catch(() => undefined);
    } else logger.info('Token refused', { reason });
    throw new Error('Unauthorized');
  }
  return {
    principalId: claims.sub,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: apiWildcard(event.methodArn) }],
    },
    context: authorizerContext(claims, payload.exp),
  };
}

export const handler = (
  event: APIGatewayTokenAuthorizerEvent,
  context: Context,
): Promise<APIGatewayAuthorizerResult> => authorize(event, context);
