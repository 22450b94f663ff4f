/**
 * The API's web ACL: AWS managed rule groups, and rate-based rules on the rate-limited routes of the
 * route table (lookups): one per caller (the bearer token) and one per source address (the
 * organisation's egress). Blocks by a rate rule answer 429 THROTTLED in the contract's body; a body of
 * BODY_LIMIT_BYTES or more, 413 PAYLOAD_TOO_LARGE.
 */
import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnLoggingConfiguration, CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { apiErrors } from '../../functions/http/errors';
import { BODY_LIMIT_BYTES, type RouteDefinition } from '../../functions/http/routes';
import { errorBody } from './api-errors';

/** Rate-based rules count over this window; the contract's limits are per minute. */
export const RATE_WINDOW_SECONDS = 60;

export interface ApiFirewallProps {
  /** The rate-limited routes (rateLimited: true in routes.ts). */
  rateLimitedRoutes: readonly RouteDefinition[];
  /** API Gateway stage name: execute-api URLs start with it, custom domain URLs do not. */
  stageName: string;
  lookupsPerMinutePerUser: number;
  lookupsPerMinutePerOrganisation: number;
  /** ARN of the API Gateway stage to protect. */
  stageArn: string;
  logGroupName: string;
  logsKey: IKey;
  logRetention: RetentionDays;
}

const NO_TRANSFORMATION = [{ priority: 0, type: 'NONE' }];

const visibility = (metricName: string): CfnWebACL.VisibilityConfigProperty => ({
  cloudWatchMetricsEnabled: true,
  metricName,
  sampledRequestsEnabled: false,
});

/**
 * A regex matching decimal numbers of at least `limit`, which must be a digit times a power of ten
 * (AWS WAF compares header values as text, and its regexes have no lookarounds).
 */
export function atLeastRegex(limit: number): string {
  const digits = String(limit);
  const first = Number(digits[0]);
  if (!/^[1-9]0*$/.test(digits)) throw new Error(`${limit} is not a digit times a power of ten`);
  const zeros = digits.length - 1;
  return `^0*([${first}-9][0-9]{${zeros}}|[1-9][0-9]{${zeros + 1},})$`;
}

/** `/v1/children/{nhsNumber}` → `^(/live)?/v1/children/[^/]+/?$` */
export function routePathRegex(path: string, stageName: string): string {
  const body = path
    .split('/')
    .map((segment) => (segment.startsWith('{') ? '[^/]+' : segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
    .join('/');
  return `^(/${stageName})?${body}/?$`;
}

function routeStatement(route: RouteDefinition, stageName: string): CfnWebACL.StatementProperty {
  return {
    andStatement: {
      statements: [
        {
          byteMatchStatement: {
            fieldToMatch: { method: {} },
            positionalConstraint: 'EXACTLY',
            searchString: route.method,
            textTransformations: NO_TRANSFORMATION,
          },
        },
        {
          regexMatchStatement: {
            fieldToMatch: { uriPath: {} },
            regexString: routePathRegex(route.path, stageName),
            textTransformations: NO_TRANSFORMATION,
          },
        },
      ],
    },
  };
}

function scopeDown(routes: readonly RouteDefinition[], stageName: string): CfnWebACL.StatementProperty {
  const statements = routes.map((route) => routeStatement(route, stageName));
  return statements.length === 1
    ? (statements[0] as CfnWebACL.StatementProperty)
    : { orStatement: { statements } };
}

const managedGroup = (
  name: string,
  priority: number,
  ruleActionOverrides?: CfnWebACL.RuleActionOverrideProperty[],
): CfnWebACL.RuleProperty => ({
  name,
  priority,
  overrideAction: { none: {} },
  statement: { managedRuleGroupStatement: { vendorName: 'AWS', name, ruleActionOverrides } },
  visibilityConfig: visibility(name),
});

export class ApiFirewall extends Construct {
  readonly webAcl: CfnWebACL;

  constructor(scope: Construct, id: string, props: ApiFirewallProps) {
    super(scope, id);
    const throttled: CfnWebACL.RuleActionProperty = {
      block: {
        customResponse: {
          responseCode: 429,
          customResponseBodyKey: 'throttled',
          responseHeaders: [
            { name: 'Retry-After', value: String(RATE_WINDOW_SECONDS) },
            { name: 'Cache-Control', value: 'no-store' },
          ],
        },
      },
    };
    const rules: CfnWebACL.RuleProperty[] = [managedGroup('AWSManagedRulesAmazonIpReputationList', 0)];
    if (props.rateLimitedRoutes.length > 0) {
      const scopeDownStatement = scopeDown(props.rateLimitedRoutes, props.stageName);
      rules.push(
        {
          name: 'RateLimitedRoutesPerCaller',
          priority: 1,
          action: throttled,
          statement: {
            rateBasedStatement: {
              limit: props.lookupsPerMinutePerUser,
              evaluationWindowSec: RATE_WINDOW_SECONDS,
              aggregateKeyType: 'CUSTOM_KEYS',
              customKeys: [{ header: { name: 'authorization', textTransformations: NO_TRANSFORMATION } }],
              scopeDownStatement,
            },
          },
          visibilityConfig: visibility('RateLimitedRoutesPerCaller'),
        },
        {
          name: 'RateLimitedRoutesPerSourceAddress',
          priority: 2,
          action: throttled,
          statement: {
            rateBasedStatement: {
              limit: props.lookupsPerMinutePerOrganisation,
              evaluationWindowSec: RATE_WINDOW_SECONDS,
              aggregateKeyType: 'IP',
              scopeDownStatement,
            },
          },
          visibilityConfig: visibility('RateLimitedRoutesPerSourceAddress'),
        },
      );
    }
    rules.push(
      // Uploads carry bodies larger than the rule set's 8 KB body-size rule: counted, not blocked
      // (API Gateway and the functions enforce the contract's size limits).
      managedGroup('AWSManagedRulesCommonRuleSet', 3, [
        { name: 'SizeRestrictions_BODY', actionToUse: { count: {} } },
      ]),
      managedGroup('AWSManagedRulesKnownBadInputsRuleSet', 4),
      {
        // A body this large would fail the Lambda invocation (5xx): refuse it as the contract says.
        name: 'BodyOverLimit',
        priority: 5,
        action: {
          block: {
            customResponse: {
              responseCode: 413,
              customResponseBodyKey: 'tooLarge',
              responseHeaders: [{ name: 'Cache-Control', value: 'no-store' }],
            },
          },
        },
        statement: {
          regexMatchStatement: {
            fieldToMatch: { singleHeader: { Name: 'content-length' } },
            regexString: atLeastRegex(BODY_LIMIT_BYTES),
            textTransformations: NO_TRANSFORMATION,
          },
        },
        visibilityConfig: visibility('BodyOverLimit'),
      },
    );

    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      description: 'Managed protections and per-caller rate limits of the child protection sharing API',
      rules,
      customResponseBodies: {
        throttled: {
          contentType: 'APPLICATION_JSON',
          content: errorBody('THROTTLED', `Too many lookups: try again in ${RATE_WINDOW_SECONDS} seconds`),
        },
        tooLarge: {
          contentType: 'APPLICATION_JSON',
          // The functions' own 413, for the largest body any of them takes.
          content: errorBody('PAYLOAD_TOO_LARGE', apiErrors.payloadTooLarge(BODY_LIMIT_BYTES - 1).message),
        },
      },
      visibilityConfig: visibility('ChildProtectionSharingApi'),
    });

    new CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.stageArn,
      webAclArn: this.webAcl.attrArn,
    });

    const logGroup = new LogGroup(this, 'Logs', {
      logGroupName: props.logGroupName,
      retention: props.logRetention,
      encryptionKey: props.logsKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // WAF wants the log group ARN without the `:*` suffix of its Arn attribute.
    const destination = Stack.of(this).formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: props.logGroupName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const logging = new CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      logDestinationConfigs: [destination],
      // Never log bearer tokens, or paths and query strings (they carry NHS numbers).
      redactedFields: [{ singleHeader: { Name: 'authorization' } }, { uriPath: {} }, { queryString: {} }],
    });
    logging.node.addDependency(logGroup);
  }
}
