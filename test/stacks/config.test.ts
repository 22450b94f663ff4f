/** The stage configuration is validated before anything is built. */

import { Match } from 'aws-cdk-lib/assertions';
import { parseIssuers } from '../../functions/http/issuers';
import { routes } from '../../functions/http/routes';
import { parseConfig, type StageConfigInput, selectStages, stages } from '../../stacks/config';
import { ServiceFunction } from '../../stacks/constructs/service-function';
import { regionStacks, synthesize, template } from './helpers';

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

  it('refuses a discovery document served over plain http, and an issuer that is not an https URL', () => {
    const bound = {
      kind: 'client-credentials' as const,
      roles: ['council' as const],
      orgPattern: '^E\\d{8}$',
    };
    const issuer = {
      issuer: 'https://issuer.example.org',
      discoveryUrl: 'http://issuer.example.org/.well-known/openid-configuration',
      ...bound,
    };
    expect(() =>
      parseConfig(withRegions([region], { identity: { audience: 'a', issuers: [issuer] } })),
    ).toThrow(/discoveryUrl must be an https URL/);
    // The local provider's issuers (plain http on a loopback address) are never deployed.
    const local = { issuer: 'http://127.0.0.1:41234/systems', ...bound };
    expect(() =>
      parseConfig(withRegions([region], { identity: { audience: 'a', issuers: [local] } })),
    ).toThrow(/issuer must be an https URL/);
  });

  it('refuses an issuer without a kind, a cis2 issuer asserting another role, and acr on a client-credentials issuer', () => {
    const withIssuer = (issuer: object) =>
      withRegions([region], {
        identity: { audience: 'a', issuers: [issuer] } as StageConfigInput['identity'],
        webView: undefined,
      });
    const cis2 = {
      kind: 'cis2',
      issuer: 'https://cis2.example.nhs.uk',
      roles: ['clinician'],
      orgPattern: '^R\\w+$',
      clients: ['web-view'],
    };
    expect(() => parseConfig(withIssuer({ ...cis2, kind: undefined }))).toThrow(/kind/);
    expect(() => parseConfig(withIssuer({ ...cis2, roles: ['clinician', 'auditor'] }))).toThrow(
      /cis2 issuer asserts the clinician role only/,
    );
    expect(() => parseConfig(withIssuer({ ...cis2, kind: 'client-credentials', acr: 'AAL3_ANY' }))).toThrow(
      /acr applies to cis2 issuers only/,
    );
    expect(() => parseConfig(withIssuer({ ...cis2, kind: 'client-credentials', clients: ['x'] }))).toThrow(
      /clients applies to cis2 issuers only/,
    );
    expect(parseConfig(withIssuer(cis2))[0]?.identity.issuers).toEqual([cis2]);
  });

  it('connects every stage to CIS2 by discovery with smartcard assurance, and its systems by client credentials', () => {
    const byStage = Object.fromEntries(
      parseConfig(stages).map((stage) => [
        stage.name,
        stage.identity.issuers.map((issuer) => [
          issuer.kind,
          issuer.discoveryUrl ?? issuer.issuer,
          issuer.acr,
        ]),
      ]),
    );
    expect(byStage.dev?.[0]).toEqual([
      'cis2',
      'https://am.nhsint.auth-ptl.cis2.spineservices.nhs.uk/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare/.well-known/openid-configuration',
      'AAL3_ANY',
    ]);
    expect(byStage.prod?.[0]).toEqual([
      'cis2',
      'https://am.nhsidentity.spineservices.nhs.uk:443/openam/oauth2/realms/root/realms/oidc/.well-known/openid-configuration',
      'AAL3_ANY',
    ]);
    for (const issuers of Object.values(byStage))
      expect(issuers.slice(1).every(([kind]) => kind === 'client-credentials')).toBe(true);
  });

  describe('issuers bound to roles and organisations', () => {
    const councils = {
      kind: 'client-credentials' as const,
      issuer: 'https://councils-auth.example.org',
      roles: ['council' as const],
      orgPattern: '^E\\d{8}$',
    };
    const withIssuers = (issuers: unknown[]) =>
      withRegions([region], {
        identity: { audience: 'a', issuers } as StageConfigInput['identity'],
        webView: undefined,
      });

    it('gives every issuer of every stage its roles and orgPattern, and some issuer speaks for each council', () => {
      for (const stage of parseConfig(stages)) {
        for (const issuer of stage.identity.issuers) {
          expect(issuer.roles.length).toBeGreaterThan(0);
          expect(issuer.orgPattern).not.toBe('');
        }
        const councilPatterns = stage.identity.issuers
          .filter((issuer) => issuer.roles.includes('council'))
          .map((issuer) => new RegExp(`^(?:${issuer.orgPattern})$`, 'u'));
        for (const council of stage.regions.flatMap((r) => r.councils))
          expect(councilPatterns.some((pattern) => pattern.test(council.code))).toBe(true);
        // Every role can reach a deployed stage: without a demographics issuer no NHS number change or
        // sensitivity flag could be recorded, without an auditor's no audit trail read.
        const assertable = new Set(stage.identity.issuers.flatMap((issuer) => issuer.roles));
        expect({ stage: stage.name, roles: [...assertable].sort() }).toEqual({
          stage: stage.name,
          roles: ['auditor', 'clinician', 'council', 'demographics'],
        });
      }
    });

    it('refuses an orgPattern that is no regular expression, naming the issuer and the pattern', () => {
      expect(() => parseConfig(withIssuers([{ ...councils, orgPattern: '^E\\d{8' }]))).toThrow(
        '0.identity.issuers.0.orgPattern: orgPattern "^E\\\\d{8" is not a regular expression: Incomplete quantifier',
      );
      expect(() => parseConfig(withIssuers([{ ...councils, orgPattern: '' }]))).toThrow(
        '0.identity.issuers.0.orgPattern: orgPattern must not be empty',
      );
    });

    it('refuses an issuer without roles, with none, or with a role the service does not have', () => {
      const { roles: _roles, ...withoutRoles } = councils;
      expect(() => parseConfig(withIssuers([withoutRoles]))).toThrow('0.identity.issuers.0.roles');
      expect(() => parseConfig(withIssuers([{ ...councils, roles: [] }]))).toThrow(
        '0.identity.issuers.0.roles: roles must list at least one role',
      );
      expect(() => parseConfig(withIssuers([{ ...councils, roles: ['admin'] }]))).toThrow(
        '0.identity.issuers.0.roles.0',
      );
      const { orgPattern: _orgPattern, ...withoutPattern } = councils;
      expect(() => parseConfig(withIssuers([withoutPattern]))).toThrow('0.identity.issuers.0.orgPattern');
      expect(parseConfig(withIssuers([councils]))[0]?.identity.issuers).toEqual([councils]);
    });
  });

  describe('custom domain TLS policies', () => {
    const prod = stages.find((stage) => stage.name === 'prod') as StageConfigInput;
    const london = prod.regions[0] as StageConfigInput['regions'][number];
    const domain = london.domain as NonNullable<typeof london.domain>;
    const withDomain = (changes: Partial<typeof domain>) => [
      { ...prod, regions: [{ ...london, domain: { ...domain, ...changes } }, ...prod.regions.slice(1)] },
    ];
    const mutualTls = { truststoreBucket: 'cpis-truststore', truststoreKey: 'councils.pem' };

    it('refuses mutual TLS with an enhanced policy, saying which to change', () => {
      expect(() => parseConfig(withDomain({ securityPolicy: 'TLS13_1_3_2025_09', mutualTls }))).toThrow(
        /mutual TLS with the enhanced policy TLS13_1_3_2025_09: use securityPolicy TLS_1_2/,
      );
      expect(() => parseConfig(withDomain({ securityPolicy: 'TLS_1_2', mutualTls }))).not.toThrow();
    });

    it('builds a domain with an enhanced policy in the STRICT endpoint access mode, and TLS_1_2 without one', () => {
      const built = synthesize(withDomain({ securityPolicy: 'TLS13_1_2_PFS_PQ_2025_09' }));
      const api = regionStacks(built, 'prod', 'eu-west-2').api;
      template(api).hasResourceProperties('AWS::ApiGateway::DomainName', {
        SecurityPolicy: 'SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09',
        EndpointAccessMode: 'STRICT',
      });
      const legacy = regionStacks(
        synthesize(withDomain({ securityPolicy: 'TLS_1_2' })),
        'prod',
        'eu-west-2',
      ).api;
      template(legacy).hasResourceProperties('AWS::ApiGateway::DomainName', {
        SecurityPolicy: 'TLS_1_2',
        EndpointAccessMode: Match.absent(),
      });
    }, 120_000);
  });

  it('refuses a malformed account id', () => {
    expect(() => parseConfig(withRegions([region], { account: '1234' }))).toThrow(/account/);
  });

  it('refuses reserved concurrency for an entry that is no API function, naming it and the entries', () => {
    const entries = [...new Set(routes.map((route) => route.entry))].sort();
    const limits = (byEntry: Record<string, number>) => ({
      limits: { reservedConcurrency: { authorizer: 5, api: 2, dispatch: 2, byEntry } },
    });
    expect(
      parseConfig(withRegions([region], limits({ lookup: 50, upload: 3 })))[0]?.limits.reservedConcurrency
        .byEntry,
    ).toEqual({ lookup: 50, upload: 3 });
    for (const typo of ['lookups', 'authorizer', 'functions/lookup']) {
      expect(() => parseConfig(withRegions([region], limits({ [typo]: 50 })))).toThrow(
        `0.limits.reservedConcurrency.byEntry.${typo}: no API function has entry "${typo}"; byEntry takes ${entries.join(', ')}`,
      );
    }
  });
});

describe('stage selection (-c stages=...)', () => {
  const config = parseConfig(stages);
  const names = (selected: ReturnType<typeof selectStages>) => selected.map((stage) => stage.name);

  it('synthesizes every stage without -c stages, and the named ones with it', () => {
    expect(names(selectStages(config, undefined))).toEqual(['dev', 'prod']);
    expect(names(selectStages(config, 'prod'))).toEqual(['prod']);
    expect(names(selectStages(config, 'dev, prod'))).toEqual(['dev', 'prod']);
  });

  it('refuses a stage name it does not know, naming it and the known stages', () => {
    expect(() => selectStages(config, 'dev,prdo')).toThrow(
      '-c stages=dev,prdo: no stage named prdo; the stages are dev, prod',
    );
    expect(() => selectStages(config, 'staging,qa')).toThrow(
      'no stages named staging, qa; the stages are dev, prod',
    );
  });

  it('refuses an empty name or a value that is not a comma-separated list', () => {
    expect(() => selectStages(config, '')).toThrow('-c stages= names no stage');
    expect(() => selectStages(config, 'dev,,prod')).toThrow('an empty stage name');
    expect(() => selectStages(config, ['dev'])).toThrow(
      'stages must be a comma-separated list of stage names',
    );
  });

  it('stops cdk synth before building anything', async () => {
    const { execFile } = await import('node:child_process');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--no-warnings', '--import', 'tsx', 'stacks/app.ts'],
        {
          env: {
            ...process.env,
            // What the CDK CLI hands the app for `cdk synth -c stages=dev,prdo`.
            CDK_CONTEXT_JSON: JSON.stringify({ stages: 'dev,prdo', 'aws:cdk:bundling-stacks': [] }),
            CDK_OUTDIR: mkdtempSync(join(tmpdir(), 'cdk-out-')),
          },
        },
        (error, _stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stderr }),
      );
    });
    expect(result.stderr).toContain('-c stages=dev,prdo: no stage named prdo; the stages are dev, prod');
    expect(result.code).not.toBe(0);
  }, 120_000);
});

describe('service functions', () => {
  it("refuse the local identity provider's address as a deployed environment variable", async () => {
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
          environment: { LOCAL_IDENTITY_ORIGIN: 'http://127.0.0.1:41234' },
        }),
    ).toThrow(/LOCAL_IDENTITY_ORIGIN/);
    const fn = new ServiceFunction(stack, 'Lookup', {
      entry: 'lookup',
      description: 'test',
      reservedConcurrency: 1,
      logsKey: new Key(stack, 'LogsKey'),
      logRetention: 30,
    });
    expect(() => fn.addEnvironment('LOCAL_IDENTITY_ORIGIN', 'http://127.0.0.1:41234')).toThrow(
      /never be deployed/,
    );
  });
});
