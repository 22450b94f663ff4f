/** The stage configuration is validated before anything is built. */
import { parseIssuers } from '../../functions/http/tokens';
import { parseConfig, type StageConfigInput, stages } from '../../stacks/config';
import { ServiceFunction } from '../../stacks/constructs/service-function';

const dev = stages.find((stage) => stage.name === 'dev') as StageConfigInput;
const withRegions = (regions: StageConfigInput['regions'], extra: Partial<StageConfigInput> = {}) => [
  { ...dev, regions, ...extra },
];
const region = dev.regions[0] as StageConfigInput['regions'][number];

describe('stage configuration', () => {
  it('accepts the stages in stacks/config.ts, with the contract defaults for lookup limits', () => {
    const config = parseConfig(stages);
    expect(config.map((stage) => stage.name)).toEqual(['dev', 'prod']);
    for (const stage of config) {
      expect(stage.limits.lookupsPerMinutePerUser).toBe(120);
      expect(stage.limits.lookupsPerMinutePerOrganisation).toBe(1200);
      expect(stage.regions.map((r) => r.region)).toContain(stage.primaryRegion);
      // The authorizer's own parser accepts what the stack will hand it.
      expect(parseIssuers(JSON.stringify(stage.identity.issuers))).toEqual(stage.identity.issuers);
    }
  });

  it('refuses a council homed in two regions', () => {
    expect(() =>
      parseConfig(withRegions([region, { ...region, region: 'eu-west-1' }], { primaryRegion: 'eu-west-2' })),
    ).toThrow(/homed in exactly one region.*E09000001/s);
  });

  it('refuses a primary region the stage does not deploy', () => {
    expect(() => parseConfig(withRegions([region], { primaryRegion: 'eu-west-3' }))).toThrow(
      /primaryRegion eu-west-3/,
    );
  });

  it('refuses fewer than 5 receives before dead-lettering', () => {
    const council = { ...(region.councils[0] as (typeof region.councils)[number]), maxReceiveCount: 3 };
    expect(() => parseConfig(withRegions([{ ...region, councils: [council] }]))).toThrow(/maxReceiveCount/);
  });

  it('refuses a key set served over plain http, and an issuer that is not an https URL', () => {
    const issuer = { issuer: 'https://issuer.example.org', jwksUri: 'http://issuer.example.org/jwks' };
    expect(() =>
      parseConfig(withRegions([region], { identity: { audience: 'a', issuers: [issuer] } })),
    ).toThrow(/jwksUri/);
    const local = {
      issuer: 'urn:child-protection-sharing:local-development',
      jwksUri: 'https://x.example.org/jwks',
    };
    expect(() =>
      parseConfig(withRegions([region], { identity: { audience: 'a', issuers: [local] } })),
    ).toThrow(/issuer/);
  });

  it('refuses a malformed account id', () => {
    expect(() => parseConfig(withRegions([region], { account: '1234' }))).toThrow(/account/);
  });
});

describe('service functions', () => {
  it('refuse the local development key as a deployed environment variable', async () => {
    const { App, Stack } = await import('aws-cdk-lib');
    const { Key } = await import('aws-cdk-lib/aws-kms');
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Test');
    expect(
      () =>
        new ServiceFunction(stack, 'Authorizer', {
          entry: 'authorizer',
          description: 'test',
          reservedConcurrency: 1,
          logsKey: new Key(stack, 'Key'),
          logRetention: 30,
          environment: { LOCAL_JWT_PUBLIC_JWK: '{}' },
        }),
    ).toThrow(/LOCAL_JWT_PUBLIC_JWK/);
    const fn = new ServiceFunction(stack, 'Lookup', {
      entry: 'lookup',
      description: 'test',
      reservedConcurrency: 1,
      logsKey: new Key(stack, 'LogsKey'),
      logRetention: 30,
    });
    expect(() => fn.addEnvironment('LOCAL_JWT_PUBLIC_JWK', '{}')).toThrow(/never be deployed/);
  });
});
