/**
 * The API's web ACL: AWS managed rule groups, and rate-based rules over 60-second windows: every route
 * per caller, and the rate-limited routes of the route table (lookups) per caller and per source
 * address (the organisation's egress). A caller is its bearer token, however the request spells the
 * `Authorization` header's scheme; a route is its path as API Gateway routes it, however the request
 * percent-encodes it. The rate rules only count and label a caller over its limit; two block rules
 * after them answer the labelled request 429 in the body of the API it was sent to: an OperationOutcome
 * under the FHIR base path (the one web ACL serves both REST APIs, so each caller's budget is shared),
 * the contract's THROTTLED error elsewhere (docs/adr/0040). A body of BODY_LIMIT_BYTES or more answers 413
 * PAYLOAD_TOO_LARGE.
 */
import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnLoggingConfiguration, CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { operationOutcome } from '../../functions/fhir/outcome';
import { apiErrors } from '../../functions/http/errors';
import { BODY_LIMIT_BYTES, FHIR_BASE_PATH, type RouteDefinition } from '../../functions/http/routes';
import { errorBody } from './api-errors';

/** Rate-based rules count over this window; the contract's limits are per minute. */
export const RATE_WINDOW_SECONDS = 60;

/** The label every rate rule adds to a request over its limit; the throttle rules block on it. */
export const OVER_LIMIT_LABEL = 'ratelimit:exceeded';

export interface ApiFirewallProps {
  /** The rate-limited routes (rateLimited: true in routes.ts). */
  rateLimitedRoutes: readonly RouteDefinition[];
  /** API Gateway stage name: execute-api URLs start with it, custom domain URLs do not. */
  stageName: string;
  /** Requests to any route per caller per window. */
  requestsPerMinutePerCaller: number;
  lookupsPerMinutePerUser: number;
  lookupsPerMinutePerOrganisation: number;
  /** ARN of the API Gateway stage to protect. */
  stageArn: string;
  logGroupName: string;
  logsKey: IKey;
  logRetention: RetentionDays;
}

const NO_TRANSFORMATION = [{ priority: 0, type: 'NONE' }];

/**
 * How a rate rule reads the caller's `Authorization` header. API Gateway and the authorizer accept
 * the scheme in any case (`Bearer`, `bearer`, `BEARER`... 64 spellings), and keyed on the raw header
 * each spelling would be a budget of its own. LOWERCASE makes them one key. It folds the token's case
 * too, so two tokens that differ only in the case of their letters share a budget: lowercasing only
 * ever merges keys, never splits one, so it can make a limit stricter, never looser. COMPRESS_WHITE_SPACE
 * folds any run of white space between scheme and token to one space (API Gateway's header pattern
 * allows one space only; this holds whatever that pattern becomes).
 */
export const CALLER_KEY_TRANSFORMATIONS = [
  { priority: 0, type: 'COMPRESS_WHITE_SPACE' },
  { priority: 1, type: 'LOWERCASE' },
];

/** The aggregation key of the per-caller rules: the bearer token, whatever the scheme's spelling. */
const CALLER_KEY: CfnWebACL.RateBasedStatementCustomKeyProperty = {
  header: { name: 'authorization', textTransformations: CALLER_KEY_TRANSFORMATIONS },
};

/**
 * How a scope-down reads the path: percent-decoded first, since API Gateway routes `/v1/%63hildren/…`
 * as `/v1/children/…`, then with repeated slashes and `.`/`..` segments removed. Not lowercased: API
 * Gateway matches resource paths case-sensitively, as functions/http/routes.ts does locally, so
 * `/V1/children/…` is no route. Reading a request as a route that API Gateway would not route to only
 * counts it against its caller; missing one would let it through uncounted.
 */
export const PATH_TRANSFORMATIONS = [
  { priority: 0, type: 'URL_DECODE' },
  { priority: 1, type: 'NORMALIZE_PATH' },
];

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

/** `/FHIR/R4` → `^(/live)?/FHIR/R4(/|$)`: the base path and everything under it, as isFhirPath reads it. */
export function basePathRegex(basePath: string, stageName: string): string {
  return `^(/${stageName})?${basePath.replace(/[.*+?^$()|[\]\\]/g, '\\$&')}(/|$)`;
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
            textTransformations: PATH_TRANSFORMATIONS,
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
  ruleActionOverrides?: CfnWebACL.RuleActionOverrideProperty[],
): Omit<CfnWebACL.RuleProperty, 'priority'> => ({
  name,
  overrideAction: { none: {} },
  statement: { managedRuleGroupStatement: { vendorName: 'AWS', name, ruleActionOverrides } },
  visibilityConfig: visibility(name),
});

export class ApiFirewall extends Construct {
  readonly webAcl: CfnWebACL;

  constructor(scope: Construct, id: string, props: ApiFirewallProps) {
    super(scope, id);
    const throttled = (customResponseBodyKey: string): CfnWebACL.RuleActionProperty => ({
      block: {
        customResponse: {
          responseCode: 429,
          customResponseBodyKey,
          responseHeaders: [
            { name: 'Retry-After', value: String(RATE_WINDOW_SECONDS) },
            { name: 'Cache-Control', value: 'no-store' },
          ],
        },
      },
    });
    const overLimit: CfnWebACL.StatementProperty = {
      labelMatchStatement: { scope: 'LABEL', key: OVER_LIMIT_LABEL },
    };
    type Rule = Omit<CfnWebACL.RuleProperty, 'priority'>;
    // Count, not block: the block rules below choose the body by path, which a rate rule cannot.
    const rateRule = (name: string, statement: CfnWebACL.RateBasedStatementProperty): Rule => ({
      name,
      action: { count: {} },
      ruleLabels: [{ name: OVER_LIMIT_LABEL }],
      statement: { rateBasedStatement: { evaluationWindowSec: RATE_WINDOW_SECONDS, ...statement } },
      visibilityConfig: visibility(name),
    });
    const rules: Rule[] = [managedGroup('AWSManagedRulesAmazonIpReputationList')];
    if (props.rateLimitedRoutes.length > 0) {
      const scopeDownStatement = scopeDown(props.rateLimitedRoutes, props.stageName);
      rules.push(
        rateRule('RateLimitedRoutesPerCaller', {
          limit: props.lookupsPerMinutePerUser,
          aggregateKeyType: 'CUSTOM_KEYS',
          customKeys: [CALLER_KEY],
          scopeDownStatement,
        }),
        rateRule('RateLimitedRoutesPerSourceAddress', {
          limit: props.lookupsPerMinutePerOrganisation,
          aggregateKeyType: 'IP',
          scopeDownStatement,
        }),
      );
    }
    const fhirPath: CfnWebACL.StatementProperty = {
      regexMatchStatement: {
        fieldToMatch: { uriPath: {} },
        regexString: basePathRegex(FHIR_BASE_PATH, props.stageName),
        textTransformations: PATH_TRANSFORMATIONS,
      },
    };
    rules.push(
      // Every route (no scope-down on the route: a request for no route counts too), but not a request
      // the lookup rules found over their limit: blocked anyway, it must not also use up the caller's
      // budget for other routes. A request without an Authorization header is not counted: API Gateway
      // answers it 401 without a function (the public FHIR metadata aside, which reads nothing).
      rateRule('AllRoutesPerCaller', {
        limit: props.requestsPerMinutePerCaller,
        aggregateKeyType: 'CUSTOM_KEYS',
        customKeys: [CALLER_KEY],
        scopeDownStatement: { notStatement: { statement: overLimit } },
      }),
      {
        name: 'ThrottledFhir',
        action: throttled('throttledFhir'),
        statement: { andStatement: { statements: [overLimit, fhirPath] } },
        visibilityConfig: visibility('ThrottledFhir'),
      },
      {
        name: 'Throttled',
        action: throttled('throttled'),
        statement: overLimit,
        visibilityConfig: visibility('Throttled'),
      },
      // Uploads carry bodies larger than the rule set's 8 KB body-size rule: counted, not blocked
      // (API Gateway and the functions enforce the contract's size limits).
      managedGroup('AWSManagedRulesCommonRuleSet', [
        { name: 'SizeRestrictions_BODY', actionToUse: { count: {} } },
      ]),
      managedGroup('AWSManagedRulesKnownBadInputsRuleSet'),
      {
        // A body this large would fail the Lambda invocation (5xx): refuse it as the contract says.
        name: 'BodyOverLimit',
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
      // Evaluated in this order.
      rules: rules.map((rule, priority) => ({ ...rule, priority })),
      customResponseBodies: {
        throttled: {
          contentType: 'APPLICATION_JSON',
          // The functions' own 429.
          content: errorBody('THROTTLED', apiErrors.throttled(RATE_WINDOW_SECONDS).message),
        },
        throttledFhir: {
          // WAF offers no FHIR media type; the body is the FHIR functions' own 429 OperationOutcome.
          contentType: 'APPLICATION_JSON',
          content: JSON.stringify(
            operationOutcome('THROTTLED', apiErrors.throttled(RATE_WINDOW_SECONDS).message),
          ),
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
