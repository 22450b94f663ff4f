/**
 * The REST API of one region, built from the route table (functions/http/routes.ts): one function
 * per route entry, a TOKEN authorizer on every routed method, 405 for other methods on a known path,
 * contract-shaped gateway errors, per-method throttling, access and execution logs, X-Ray, WAF and an
 * optional TLS 1.2+ custom domain with optional mutual TLS. The FHIR routes get a REST API of their own,
 * whose gateway errors are OperationOutcomes, behind the same authorizer function, throttling and web
 * ACL (docs/adr/0035).
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  type CfnDomainName,
  EndpointAccessMode,
  EndpointType,
  IdentitySource,
  LambdaIntegration,
  LogGroupLogDestination,
  type Method,
  type MethodDeploymentOptions,
  MethodLoggingLevel,
  RequestValidator,
  RestApi,
  SecurityPolicy,
  TokenAuthorizer,
} from 'aws-cdk-lib/aws-apigateway';
import { CfnRoutingRule } from 'aws-cdk-lib/aws-apigatewayv2';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import type { Construct, IConstruct } from 'constructs';
import { catalog, type FunctionSpec } from '../functions/catalog';
import { environments } from '../functions/environment';
import {
  FHIR_BASE_PATH,
  FHIR_CATCH_ALL,
  type RouteDefinition,
  routes as routeTable,
} from '../functions/http/routes';
import { type RegionConfig, type StageConfig, stageCouncilCodes } from './config';
import { addGatewayErrors, addMethodNotAllowed } from './constructs/api-errors';
import { ApiFirewall } from './constructs/api-firewall';
import { addFhirGatewayErrors } from './constructs/fhir-api-errors';
import { logsKey } from './constructs/keys';
import { acknowledge } from './constructs/nag';
import { functionSizing, ServiceFunction } from './constructs/service-function';
import { regionalTable } from './constructs/service-table';
import { apiTableAccess } from './constructs/table-access';
import { API_STAGE_NAME, metricsNamespace, SERVICE, wafLogGroupName } from './naming';
import { logRetention } from './retention';

export interface ApiStackProps extends StackProps {
  stage: StageConfig;
  regionConfig: RegionConfig;
  /** This region's table key (Data stack of the same region). */
  tableKey: IKey;
  /** Defaults to the route table; tests pass their own to show new routes need no code change. */
  routes?: readonly RouteDefinition[];
}

/** `put-plan` → `PutPlan` */
const pascal = (entry: string) =>
  entry
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0]?.toUpperCase() + word.slice(1))
    .join('');

const pathParameters = (path: string) =>
  [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] as string);

/** Fields of the access log: no path (it carries NHS numbers), no tokens, no bodies. */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTimeEpoch',
  sourceIp: '$context.identity.sourceIp',
  httpMethod: '$context.httpMethod',
  resourcePath: '$context.resourcePath',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  principalId: '$context.authorizer.principalId',
  organisation: '$context.authorizer.org',
  role: '$context.authorizer.role',
  errorType: '$context.error.responseType',
  wafStatus: '$context.wafResponseCode',
  xrayTraceId: '$context.xrayTraceId',
  protocol: '$context.protocol',
};

/** Execution logs at ERROR, not INFO: INFO logs record path parameters, which carry NHS numbers. */
const METHOD_LOGGING = {
  loggingLevel: MethodLoggingLevel.ERROR,
  dataTraceEnabled: false,
  metricsEnabled: true,
} as const;

export class ApiStack extends Stack {
  readonly api: RestApi;
  readonly authorizerFunction: ServiceFunction;
  /** One function per route entry. */
  readonly functions: ReadonlyMap<string, ServiceFunction>;
  /** Every routed method (the ones behind the authorizer). */
  readonly routedMethods: Method[] = [];
  readonly firewall: ApiFirewall;
  /**
   * The FHIR R4 interface's own REST API (its gateway errors are OperationOutcomes): same authorizer
   * function, web ACL and throttling; with a custom domain, reached under /FHIR/R4 by a routing rule.
   */
  readonly fhirApi: RestApi | undefined;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, {
      ...props,
      description: `Child protection sharing (${props.stage.name}): REST API in ${props.regionConfig.region}`,
    });
    const { stage, regionConfig } = props;
    const routes = props.routes ?? routeTable;
    const limits = stage.limits;
    const retention = logRetention(stage);
    const keyForLogs = logsKey(
      this,
      'LogsKey',
      `Encrypts the ${stage.name} API logs in ${regionConfig.region}`,
    );
    const table = regionalTable(this, stage.name, props.tableKey.keyArn);

    this.authorizerFunction = new ServiceFunction(this, 'AuthorizerFunction', {
      ...functionSizing(catalog.authorizer),
      reservedConcurrency: limits.reservedConcurrency.authorizer,
      logsKey: keyForLogs,
      logRetention: retention,
      environment: {
        JWT_ISSUERS: JSON.stringify(stage.identity.issuers),
        JWT_AUDIENCE: stage.identity.audience,
        // Where it counts IdentityServiceUnreachable (the Monitoring stack alarms on it there).
        POWERTOOLS_METRICS_NAMESPACE: metricsNamespace(stage.name),
      },
    });
    const authorizerProps = {
      handler: this.authorizerFunction,
      identitySource: IdentitySource.header('Authorization'),
      validationRegex: '^[Bb][Ee][Aa][Rr][Ee][Rr] [A-Za-z0-9_.-]+$',
      // The authorizer allows the whole API for a valid token, so one cached answer serves every route.
      // The cache ignores the token's exp: the functions check it (claimsFromAuthorizer).
      resultsCacheTtl: Duration.minutes(5),
    };
    const authorizer = new TokenAuthorizer(this, 'TokenAuthorizer', authorizerProps);

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention,
      encryptionKey: keyForLogs,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const methodOptions: Record<string, MethodDeploymentOptions> = {};
    const fhirMethodOptions: Record<string, MethodDeploymentOptions> = {};
    for (const route of routes) {
      const throttle = route.rateLimited ? limits.rateLimitedMethodThrottle : limits.methodThrottle;
      // A method's settings replace the stage's, so each repeats the logging and metrics settings.
      (route.fhir ? fhirMethodOptions : methodOptions)[`${route.path}/${route.method}`] = {
        ...METHOD_LOGGING,
        throttlingRateLimit: throttle.rateLimit,
        throttlingBurstLimit: throttle.burstLimit,
      };
    }
    const domain = regionConfig.domain;
    const stageOptions = (options: Record<string, MethodDeploymentOptions>) => ({
      stageName: API_STAGE_NAME,
      // Off: API Gateway's trace segments record the request URL, and URLs hold NHS numbers. The
      // functions still trace (active tracing); their segments carry no URL.
      tracingEnabled: false,
      ...METHOD_LOGGING,
      throttlingRateLimit: limits.methodThrottle.rateLimit,
      throttlingBurstLimit: limits.methodThrottle.burstLimit,
      methodOptions: options,
      accessLogDestination: new LogGroupLogDestination(accessLogs),
      accessLogFormat: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
    });
    this.api = new RestApi(this, 'Api', {
      restApiName: `${SERVICE}-${stage.name}`,
      description: 'Child protection information sharing API v1',
      endpointTypes: [EndpointType.REGIONAL],
      // With a custom domain, clients use it; mutual TLS in particular holds only there.
      disableExecuteApiEndpoint: domain !== undefined,
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: stageOptions(methodOptions),
    });
    addGatewayErrors(this.api);
    const fhirRoutes = routes.filter((route) => route.fhir);
    this.fhirApi =
      fhirRoutes.length === 0
        ? undefined
        : new RestApi(this, 'FhirApi', {
            restApiName: `${SERVICE}-${stage.name}-fhir`,
            description: 'Child protection information sharing: FHIR R4 interface',
            endpointTypes: [EndpointType.REGIONAL],
            disableExecuteApiEndpoint: domain !== undefined,
            cloudWatchRole: false,
            deployOptions: stageOptions(fhirMethodOptions),
          });
    const fhirApi = this.fhirApi;
    if (fhirApi) {
      addFhirGatewayErrors(fhirApi);
      const fhirExecutionLogs = new LogGroup(this, 'FhirExecutionLogs', {
        logGroupName: `API-Gateway-Execution-Logs_${fhirApi.restApiId}/${API_STAGE_NAME}`,
        retention,
        encryptionKey: keyForLogs,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      fhirApi.deploymentStage.node.addDependency(fhirExecutionLogs);
      // The account's CloudWatch role (made with the main API) must exist before this stage logs.
      fhirApi.node.addDependency(this.api);
    }
    // A TOKEN authorizer belongs to one REST API: the FHIR API's runs the same function, alike.
    const fhirAuthorizer = fhirApi
      ? new TokenAuthorizer(this, 'FhirTokenAuthorizer', authorizerProps)
      : undefined;
    // API Gateway would create its execution log group itself, kept for ever and not under our key:
    // made here first, with the stage's retention and the logs key.
    const executionLogs = new LogGroup(this, 'ExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${API_STAGE_NAME}`,
      retention,
      encryptionKey: keyForLogs,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.api.deploymentStage.node.addDependency(executionLogs);

    const validator = new RequestValidator(this, 'ParameterValidator', {
      restApi: this.api,
      validateRequestParameters: true,
      validateRequestBody: false,
    });
    const fhirValidator = fhirApi
      ? new RequestValidator(this, 'FhirParameterValidator', {
          restApi: fhirApi,
          validateRequestParameters: true,
          validateRequestBody: false,
        })
      : undefined;

    const functions = new Map<string, ServiceFunction>();
    const methodsByPath = new Map<string, string[]>();
    // Registration refuses a council that no region of the stage gives a queue.
    const entryEnvironment: Record<string, Record<string, string>> = {
      'register-council': { STAGE_COUNCIL_CODES: stageCouncilCodes(stage) },
    };
    for (const route of routes) {
      let fn = functions.get(route.entry);
      if (!fn) {
        const spec: FunctionSpec = catalog.api[route.entry] ?? {
          entry: route.entry,
          description: route.summary.slice(0, 256),
          environment: environments.api,
        };
        fn = new ServiceFunction(this, `${pascal(route.entry)}Function`, {
          ...functionSizing(spec),
          reservedConcurrency:
            limits.reservedConcurrency.byEntry[route.entry] ?? limits.reservedConcurrency.api,
          logsKey: keyForLogs,
          logRetention: retention,
          environment: entryEnvironment[route.entry],
        });
        const access = apiTableAccess(route.entry);
        // A function with no table access (the FHIR CapabilityStatement) gets no table grants at all.
        if (access.actions.length > 0) fn.bindTable(table, access).grantRecordingRefusals(table);
        functions.set(route.entry, fn);
      }
      const api = route.fhir && fhirApi ? fhirApi : this.api;
      const resource = api.root.resourceForPath(route.path);
      const method = resource.addMethod(route.method, new LambdaIntegration(fn, { allowTestInvoke: false }), {
        ...(route.public
          ? { authorizationType: AuthorizationType.NONE }
          : {
              authorizer: route.fhir && fhirAuthorizer ? fhirAuthorizer : authorizer,
              authorizationType: AuthorizationType.CUSTOM,
            }),
        requestValidator: route.fhir ? fhirValidator : validator,
        requestParameters: Object.fromEntries(
          pathParameters(route.path).map((name) => [`method.request.path.${name}`, true]),
        ),
        operationName: route.operation ?? route.entry,
      });
      if (!route.public) this.routedMethods.push(method);
      if (!route.fhir)
        methodsByPath.set(route.path, [...(methodsByPath.get(route.path) ?? []), route.method]);
    }
    this.functions = functions;

    // Any other path or method under the FHIR base, behind the same authorizer: the FHIR search
    // function answers it 404 OperationOutcome (a wrong method too: FHIR has no 405 in the contract).
    const catchAllFunction = functions.get(FHIR_CATCH_ALL.entry);
    if (fhirApi && fhirAuthorizer && catchAllFunction) {
      const integration = new LambdaIntegration(catchAllFunction, { allowTestInvoke: false });
      const fhirPaths = [
        FHIR_BASE_PATH,
        FHIR_CATCH_ALL.path,
        ...new Set(fhirRoutes.map((route) => route.path)),
      ];
      for (const path of fhirPaths) {
        const method = fhirApi.root.resourceForPath(path).addMethod('ANY', integration, {
          authorizer: fhirAuthorizer,
          authorizationType: AuthorizationType.CUSTOM,
          operationName: 'fhirNotFound',
        });
        this.routedMethods.push(method);
      }
    }

    for (const [path, methods] of methodsByPath) {
      const notAllowed = addMethodNotAllowed(this.api.root.resourceForPath(path), methods);
      acknowledge(notAllowed, {
        id: 'AwsSolutions-APIG4',
        reason:
          'Answers 405 METHOD_NOT_ALLOWED from a mock integration to methods the path does not route: the contract checks route and method before authentication, and nothing behind it is reachable.',
      });
    }

    acknowledge(this.api.node.defaultChild as IConstruct, {
      id: 'AwsSolutions-APIG2',
      reason:
        "The gateway validates required parameters; bodies are validated by the function against the shared zod schemas so that the contract's check order (403 before 400) and its error details hold.",
    });
    for (const method of [...this.api.methods, ...(fhirApi?.methods ?? [])]) {
      acknowledge(method, {
        id: 'AwsSolutions-COG4',
        reason:
          "Callers authenticate with JWTs from the NHS identity service and council client-credentials issuers, verified by the Lambda TOKEN authorizer against each issuer's JWKS; there is no Cognito user pool.",
      });
    }
    if (fhirApi) {
      acknowledge(fhirApi.node.defaultChild as IConstruct, {
        id: 'AwsSolutions-APIG2',
        reason:
          'The FHIR function validates its search parameter and header itself, so that the contract answers each with its OperationOutcome.',
      });
      for (const method of fhirApi.methods.filter(
        (m) => m.httpMethod === 'GET' && m.resource.path.endsWith('/metadata'),
      )) {
        acknowledge(method, {
          id: 'AwsSolutions-APIG4',
          reason:
            'The FHIR CapabilityStatement is public by the contract: it names no person and reads nothing.',
        });
      }
    }
    for (const deployed of [this.api.deploymentStage, ...(fhirApi ? [fhirApi.deploymentStage] : [])])
      acknowledge(
        deployed,
        {
          id: 'HIPAA.Security-APIGWCacheEnabledAndEncrypted',
          reason:
            "Responses carry personal data and Cache-Control: no-store; caching them at the gateway is unwanted. Only the authorizer's answer is cached (5 minutes, per token).",
        },
        {
          id: 'HIPAA.Security-APIGWSSLEnabled',
          reason:
            "Backend client certificates secure HTTP integrations; every integration here is a Lambda proxy (or a mock), invoked by API Gateway over AWS's signed internal API.",
        },
        {
          id: 'HIPAA.Security-APIGWXrayEnabled',
          reason:
            "API Gateway's trace segments record the request URL, and the URLs hold NHS numbers; the functions behind it trace with active tracing, whose segments name no person.",
        },
      );
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      acknowledge(cloudWatchRole, {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          "API Gateway's account-level role for execution and access logs; the AWS managed policy is the documented one and is scoped to CloudWatch Logs.",
      });
    }

    if (domain) {
      const domainName = this.api.addDomainName('Domain', {
        domainName: domain.domainName,
        certificate: Certificate.fromCertificateArn(this, 'Certificate', domain.certificateArn),
        endpointType: EndpointType.REGIONAL,
        securityPolicy: SecurityPolicy[domain.securityPolicy],
        // Required with the enhanced (TLS13_) policies, refused with TLS_1_2.
        endpointAccessMode: domain.securityPolicy === 'TLS_1_2' ? undefined : EndpointAccessMode.STRICT,
        mtls: domain.mutualTls
          ? {
              bucket: Bucket.fromBucketName(this, 'Truststore', domain.mutualTls.truststoreBucket),
              key: domain.mutualTls.truststoreKey,
              version: domain.mutualTls.truststoreVersion,
            }
          : undefined,
      });
      if (fhirApi) {
        // Routing rules come before the domain's API mapping: /FHIR/R4/... reaches the FHIR API with
        // its path whole; everything else the main API, as before.
        (domainName.node.defaultChild as CfnDomainName).routingMode = 'ROUTING_RULE_THEN_BASE_PATH_MAPPING';
        new CfnRoutingRule(this, 'FhirRoutingRule', {
          domainNameArn: (domainName.node.defaultChild as CfnDomainName).attrDomainNameArn,
          priority: 1,
          conditions: [{ matchBasePaths: { anyOf: [FHIR_BASE_PATH.slice(1)] } }],
          actions: [{ invokeApi: { apiId: fhirApi.restApiId, stage: API_STAGE_NAME, stripBasePath: false } }],
        });
      }
      new CfnOutput(this, 'DomainTarget', {
        description: `Point ${domain.domainName} (e.g. a latency-based alias record) at this regional name`,
        value: domainName.domainNameAliasDomainName,
      });
    }

    this.firewall = new ApiFirewall(this, 'Firewall', {
      rateLimitedRoutes: routes.filter((route) => route.rateLimited),
      stageName: API_STAGE_NAME,
      requestsPerMinutePerCaller: limits.requestsPerMinutePerCaller,
      lookupsPerMinutePerUser: limits.lookupsPerMinutePerUser,
      lookupsPerMinutePerOrganisation: limits.lookupsPerMinutePerOrganisation,
      stageArn: this.api.deploymentStage.stageArn,
      logGroupName: wafLogGroupName(stage.name, regionConfig.region),
      logsKey: keyForLogs,
      logRetention: retention,
    });
    if (fhirApi) {
      new CfnWebACLAssociation(this, 'FhirFirewallAssociation', {
        resourceArn: fhirApi.deploymentStage.stageArn,
        webAclArn: this.firewall.webAcl.attrArn,
      });
      if (!domain)
        new CfnOutput(this, 'FhirEndpoint', { value: `${fhirApi.url.replace(/\/$/, '')}${FHIR_BASE_PATH}` });
    }
  }
}
