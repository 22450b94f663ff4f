/**
 * The clinician web view's hosting: a private bucket behind CloudFront with origin access control,
 * HTTPS only, the security headers on every answer, access logs, the API's children routes through the
 * same distribution, and the page's configuration from the stage config. Synthesis runs cdk-nag.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../stacks/app-builder';
import { parseConfig, stages } from '../../stacks/config';
import { WEB_VIEW_API_PATH } from '../../stacks/web-view-stack';
import { webViewContentSecurityPolicy } from '../../web/content-security-policy';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};

// A stand-in for web/dist, so the test needs no build.
const assets = mkdtempSync(path.join(tmpdir(), 'web-dist-'));
writeFileSync(path.join(assets, 'index.html'), '<!DOCTYPE html><title>stand-in</title>');

const built = buildApp(parseConfig(stages), {
  appProps: { context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } },
  webAssets: assets,
});
built.app.synth();

const webViewOf = (stage: string) => {
  const stack = built.stages.get(stage)?.webView;
  if (!stack) throw new Error(`stage ${stage} has no web view`);
  return { stack, template: Template.fromStack(stack) };
};

type Resource = { Type: string; Properties: Record<string, any> };
const resources = (template: Template, type: string) =>
  Object.values(template.toJSON().Resources as Record<string, Resource>).filter((r) => r.Type === type);

describe.each(['dev', 'prod'])('web view of %s', (stage) => {
  const { template, stack } = webViewOf(stage);
  const config = built.stages.get(stage)?.config.webView as { issuer: string; clientId: string };
  const distribution = () =>
    (resources(template, 'AWS::CloudFront::Distribution')[0] as Resource).Properties.DistributionConfig;
  const headersPolicy = () =>
    (resources(template, 'AWS::CloudFront::ResponseHeadersPolicy')[0] as Resource).Properties
      .ResponseHeadersPolicyConfig;

  it('keeps the page in a private, encrypted bucket that only the distribution reads (origin access control)', () => {
    const site = resources(template, 'AWS::S3::Bucket').find(
      (bucket) => bucket.Properties.LoggingConfiguration,
    );
    expect(site?.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(site?.Properties.BucketEncryption).toBeDefined();
    const oac = resources(template, 'AWS::CloudFront::OriginAccessControl');
    expect(oac).toHaveLength(1);
    expect(oac[0]?.Properties.OriginAccessControlConfig).toMatchObject({
      OriginAccessControlOriginType: 's3',
      SigningBehavior: 'always',
      SigningProtocol: 'sigv4',
    });
    const policy = JSON.stringify(
      resources(template, 'AWS::S3::BucketPolicy').map((p) => p.Properties.PolicyDocument),
    );
    expect(policy).toContain('cloudfront.amazonaws.com');
    expect(policy).toContain('AWS:SourceArn');
    expect(policy).not.toMatch(/"Principal":"\*","Action":"s3:GetObject"/);
  });

  it('serves HTTPS only, for the page and for the API behind it, with access logs', () => {
    const config = distribution();
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('https-only');
    expect(config.DefaultRootObject).toBe('index.html');
    expect(config.Logging.Bucket).toBeDefined();
    const api = config.CacheBehaviors.find(
      (b: { PathPattern: string }) => b.PathPattern === WEB_VIEW_API_PATH,
    );
    expect(api.ViewerProtocolPolicy).toBe('https-only');
    expect(api.AllowedMethods).toEqual(['GET', 'HEAD']);
    const apiOrigin = config.Origins.find((o: { Id: string }) => o.Id === api.TargetOriginId);
    expect(apiOrigin.CustomOriginConfig).toMatchObject({
      OriginProtocolPolicy: 'https-only',
      OriginSSLProtocols: ['TLSv1.2'],
    });
    expect(config.CacheBehaviors).toHaveLength(1);
  });

  it('puts the strict security headers on every answer: CSP without unsafe-inline, HSTS, no framing, no referrer', () => {
    const headers = headersPolicy().SecurityHeadersConfig;
    const csp: string = headers.ContentSecurityPolicy.ContentSecurityPolicy;
    expect(csp).toBe(webViewContentSecurityPolicy(config.issuer, { https: true }));
    expect(csp).not.toContain('unsafe');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`connect-src 'self' ${new URL(config.issuer).origin}`);
    expect(headers.StrictTransportSecurity).toMatchObject({
      AccessControlMaxAgeSec: 63072000,
      IncludeSubdomains: true,
      Override: true,
    });
    expect(headers.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
    expect(headers.ReferrerPolicy).toEqual({ ReferrerPolicy: 'no-referrer', Override: true });
    expect(headers.ContentTypeOptions).toEqual({ Override: true });
    const policyId = JSON.stringify(distribution().DefaultCacheBehavior.ResponseHeadersPolicyId);
    for (const behavior of distribution().CacheBehaviors)
      expect(JSON.stringify(behavior.ResponseHeadersPolicyId)).toBe(policyId);
  });

  it("writes the page's configuration from the stage config: issuer, client id, the API on the same origin", () => {
    const deployment = resources(template, 'Custom::CDKBucketDeployment')[0] as Resource;
    expect(deployment.Properties.SourceObjectKeys).toHaveLength(2);
    expect(deployment.Properties.DistributionPaths).toEqual(['/index.html', '/config.json']);
    // The asset the deployment copies: the stage's config, the API on the page's own origin.
    const directory = built.app.outdir;
    const written = readdirSync(directory)
      .filter((name) => name.startsWith('asset.'))
      .map((name) => path.join(directory, name, 'config.json'))
      .filter((file) => existsSync(file))
      .map((file) => JSON.parse(readFileSync(file, 'utf8')));
    expect(written).toContainEqual({ issuer: config.issuer, clientId: config.clientId, apiBaseUrl: '' });
    expect(stack.region).toBe(built.stages.get(stage)?.config.primaryRegion);
  });
});

it('routes the API paths to the primary region API: its custom domain (prod) or its execute-api stage (dev)', () => {
  const origins = (stage: string) =>
    JSON.stringify(
      (resources(webViewOf(stage).template, 'AWS::CloudFront::Distribution')[0] as Resource).Properties
        .DistributionConfig.Origins,
    );
  expect(origins('prod')).toContain('"DomainName":"api.cpis.example.org"');
  expect(origins('dev')).toContain('execute-api.eu-west-2.amazonaws.com');
  expect(origins('dev')).toContain('"OriginPath":"/live"');
});

it('refuses a webView issuer that is not a clinician issuer of the stage', () => {
  const dev = stages.find((stage) => stage.name === 'dev');
  expect(() =>
    parseConfig([
      { ...dev, webView: { issuer: 'https://councils-auth.int.example.org', clientId: 'x' } } as never,
    ]),
  ).toThrow(
    /webView\.issuer: webView\.issuer must be one of identity\.issuers whose roles include clinician/,
  );
});

it("refuses a webView clientId its CIS2 issuer does not accept, and a CIS2 issuer that accepts any client's token", () => {
  const dev = stages.find((stage) => stage.name === 'dev') as (typeof stages)[number];
  expect(() =>
    parseConfig([{ ...dev, webView: { ...dev.webView, clientId: 'another-client' } } as never]),
  ).toThrow(/webView\.clientId: webView\.clientId must be one of the clients its issuer accepts/);
  const unbound = {
    ...dev,
    identity: {
      ...dev.identity,
      issuers: dev.identity.issuers.map(({ clients: _clients, ...issuer }) => issuer),
    },
  };
  expect(() => parseConfig([unbound as never])).toThrow(
    /a cis2 issuer must name its audience or the clients whose tokens the stage accepts/,
  );
});

it('refuses, at synthesis, an API domain that requires client certificates as the page’s origin', () => {
  const prod = stages.find((stage) => stage.name === 'prod') as (typeof stages)[number];
  const [london, ...others] = prod.regions;
  const withMutualTls = {
    ...prod,
    regions: [
      {
        ...london,
        domain: {
          ...london?.domain,
          mutualTls: { truststoreBucket: 'cpis-truststore', truststoreKey: 'councils.pem' },
        },
      },
      ...others,
    ],
  };
  const mtls = buildApp(parseConfig([withMutualTls as never]), {
    appProps: { context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } },
    webAssets: assets,
  });
  expect(() => mtls.app.synth()).toThrow(
    /The API domain api\.cpis\.example\.org requires client certificates, which CloudFront cannot present/,
  );
});
