/**
 * The clinician web view of one stage: its built page (web/dist) in a private S3 bucket, served by
 * CloudFront through origin access control, HTTPS only, with a strict Content-Security-Policy and the
 * other security headers on every answer, and access logs. The API's children routes are served by the
 * same distribution (docs/adr/0045), so the page calls its own origin: no CORS. The page's configuration
 * (issuer, client id) is written from the stage config as /config.json.
 */
import { existsSync } from 'node:fs';
import { Annotations, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  GeoRestriction,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  OriginSslPolicy,
  PriceClass,
  ResponseHeadersPolicy,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import type { Construct } from 'constructs';
import { webViewContentSecurityPolicy } from '../web/content-security-policy';
import type { StageConfig } from './config';
import { acknowledge } from './constructs/nag';
import { API_STAGE_NAME } from './naming';

/** Its id in the stage: `cdk deploy '<stage>/WebView'`. */
export const WEB_VIEW_STACK_ID = 'WebView';

/** The API paths the page calls (GET /v1/children/{nhsNumber} and its /alert): the only ones routed here. */
export const WEB_VIEW_API_PATH = '/v1/children/*';

export interface WebViewStackProps extends StackProps {
  stage: StageConfig;
  /** The API the page calls through the distribution (apiOriginOf). */
  apiOrigin: { host: string; path: string; mutualTls?: boolean };
  /** The built page (web/dist); when absent only /config.json is deployed (and synth says so). */
  webAssets?: string;
}

export class WebViewStack extends Stack {
  readonly distribution: Distribution;
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: WebViewStackProps) {
    super(scope, id, {
      ...props,
      description: `Child protection sharing (${props.stage.name}): clinician web view`,
    });
    const webView = props.stage.webView;
    if (!webView) throw new Error(`Stage ${props.stage.name} has no webView section`);

    // Access logs of the distribution and of the page's bucket. CloudFront's standard logs need ACLs.
    const logs = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(props.stage.logRetentionDays) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bucket = new Bucket(this, 'Site', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 'site/',
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const headers = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Clinician web view: strict CSP, HSTS, no framing, no referrer',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: webViewContentSecurityPolicy(webView.issuer, { https: true }),
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(730),
          includeSubdomains: true,
          preload: true,
          override: true,
        },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
        contentTypeOptions: { override: true },
      },
      customHeadersBehavior: {
        customHeaders: [
          { header: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=()', override: true },
          { header: 'Cross-Origin-Opener-Policy', value: 'same-origin', override: true },
        ],
      },
    });

    const domain = webView.domain;
    this.distribution = new Distribution(this, 'Distribution', {
      comment: `Child protection sharing (${props.stage.name}) clinician web view`,
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
      },
      additionalBehaviors: {
        // The API itself, uncached, every viewer header (the bearer token) passed on.
        [WEB_VIEW_API_PATH]: {
          origin: new HttpOrigin(props.apiOrigin.host, {
            ...(props.apiOrigin.path ? { originPath: props.apiOrigin.path } : {}),
            protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
            originSslProtocols: [OriginSslPolicy.TLS_V1_2],
          }),
          viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
          cachePolicy: CachePolicy.CACHING_DISABLED,
          originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: headers,
        },
      },
      ...(domain
        ? {
            domainNames: [domain.domainName],
            certificate: Certificate.fromCertificateArn(this, 'Certificate', domain.certificateArn),
          }
        : {}),
      // Only a custom certificate takes a policy; the default one is CloudFront's (acknowledged below).
      ...(domain ? { minimumProtocolVersion: SecurityPolicyProtocol.TLS_V1_2_2021 } : {}),
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: PriceClass.PRICE_CLASS_100,
      geoRestriction: GeoRestriction.allowlist(...webView.countries),
      enableLogging: true,
      logBucket: logs,
      logFilePrefix: 'cloudfront/',
    });

    if (props.apiOrigin.mutualTls) {
      // CloudFront presents no client certificate: such an API cannot be the page's origin.
      Annotations.of(this).addError(
        `The API domain ${props.apiOrigin.host} requires client certificates, which CloudFront cannot present: set webView.apiRegion to a region whose domain does not, or drop mutualTls there`,
      );
    }
    const config = Source.jsonData('config.json', {
      issuer: webView.issuer,
      clientId: webView.clientId,
      apiBaseUrl: '',
    });
    const assets = props.webAssets && existsSync(props.webAssets) ? Source.asset(props.webAssets) : undefined;
    if (!assets) {
      // Info, not a warning: the stack tests synthesize without a build. `npm run synth` builds first.
      Annotations.of(this).addInfo(
        'web/dist is missing: run `npm run build:web` before deploying, or only /config.json is deployed',
      );
    }
    const deployment = new BucketDeployment(this, 'Content', {
      sources: assets ? [assets, config] : [config],
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/index.html', '/config.json'],
      memoryLimit: 256,
    });

    new CfnOutput(this, 'Address', {
      description:
        'The clinician web view (register it as a redirect URI of the client at the identity service)',
      value: `https://${domain?.domainName ?? this.distribution.distributionDomainName}/`,
    });

    acknowledge(
      logs,
      {
        id: 'AwsSolutions-S1',
        reason:
          'This bucket receives the access logs of the web view and its bucket; logging its own access would loop.',
      },
      {
        id: 'HIPAA.Security-S3BucketLoggingEnabled',
        reason:
          'This bucket receives the access logs of the web view and its bucket; logging its own access would loop.',
      },
    );
    for (const bucket of [logs, this.bucket]) {
      acknowledge(
        bucket,
        {
          id: 'HIPAA.Security-S3BucketReplicationEnabled',
          reason:
            'The page is rebuilt from source by every deploy and holds no personal data; its logs are kept in-region for the stage retention.',
        },
        {
          id: 'HIPAA.Security-S3DefaultEncryptionKMS',
          reason:
            'Static page assets and CloudFront access logs (no personal data): SSE-S3, which CloudFront origin access control and log delivery read without a key policy.',
        },
      );
    }
    acknowledge(
      this.distribution,
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'A CloudFront web ACL lives in us-east-1; the only dynamic path (/v1/children/*) reaches the API, whose regional web ACL rate-limits and filters every request.',
      },
      ...(domain
        ? []
        : [
            {
              id: 'AwsSolutions-CFR4',
              reason:
                'Without a custom domain CloudFront serves its default certificate, whose policy it fixes; stages with webView.domain get TLSv1.2_2021.',
            },
          ]),
    );
    // The deployment's own function (CDK's BucketDeployment), run only at deploy time.
    for (const child of this.node.findAll()) {
      if (!child.node.path.includes('Custom::CDKBucketDeployment')) continue;
      acknowledge(
        child,
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
          reason:
            "CDK's BucketDeployment function, run only while deploying, logs with the AWS managed basic execution policy.",
        },
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            "CDK's BucketDeployment function invalidates the distribution's cache; CloudFront invalidation takes no narrower resource here.",
        },
        ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map((action) => ({
          id: `AwsSolutions-IAM5[Action::${action}]`,
          reason:
            "CDK's BucketDeployment grants read on the CDK asset bucket and write on the page's bucket, with the S3 action groups its copy and prune need.",
        })),
        ...[
          `<${this.getLogicalId(this.bucket.node.defaultChild as CfnBucket)}.Arn>/*`,
          `arn:aws:s3:::cdk-hnb659fds-assets-${this.account}-${this.region}/*`,
        ].map((resource) => ({
          id: `AwsSolutions-IAM5[Resource::${resource}]`,
          reason:
            "CDK's BucketDeployment copies every object of the page's build, so its grants cover the objects of the two buckets concerned.",
        })),
        {
          id: 'HIPAA.Security-CloudWatchLogGroupEncrypted',
          reason:
            "CDK's BucketDeployment function logs file copies of the page's static build only: no personal data reaches that log group.",
        },
        {
          id: 'AwsSolutions-L1',
          reason: "CDK's BucketDeployment function pins its own runtime, updated with aws-cdk-lib.",
        },
        {
          id: 'HIPAA.Security-LambdaConcurrency',
          reason:
            "CDK's BucketDeployment function runs once per deploy; a reserved concurrency would only take capacity from the account.",
        },
        {
          id: 'HIPAA.Security-LambdaDLQ',
          reason:
            "CDK's BucketDeployment function is invoked synchronously by CloudFormation, which reports its failure; there is nothing to redrive.",
        },
        {
          id: 'HIPAA.Security-LambdaInsideVPC',
          reason:
            "CDK's BucketDeployment function copies the page's static files from the CDK asset bucket to the site bucket; it touches no personal data.",
        },
        {
          id: 'HIPAA.Security-IAMNoInlinePolicy',
          reason:
            "CDK's BucketDeployment function's role is made by the construct with an inline policy scoped to the two buckets and the distribution.",
        },
      );
    }
    void deployment;
  }
}

/** The API host and path the web view's distribution forwards to. */
export function apiOriginOf(
  stage: StageConfig,
  region: string,
  restApiId: string,
): WebViewStackProps['apiOrigin'] {
  const domain = stage.regions.find((candidate) => candidate.region === region)?.domain;
  return domain
    ? { host: domain.domainName, path: '', mutualTls: domain.mutualTls !== undefined }
    : { host: `${restApiId}.execute-api.${region}.amazonaws.com`, path: `/${API_STAGE_NAME}` };
}
