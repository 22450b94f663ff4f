/**
 * Stage configuration, in code: each stage names its AWS account, its regions, the councils homed in
 * each region, the identity issuers, alarm contacts and limits. Adding a council or a region is an
 * edit to this file and nothing else. Validated with zod before any construct is built.
 */
import * as z from 'zod';
import { ROLES } from '../functions/core/claims';
import { CouncilCodeSchema } from '../functions/core/schemas';
import { orgPatternProblem } from '../functions/http/issuers';
import { routes } from '../functions/http/routes';
import type { CouncilHomes } from '../functions/notify/queue-names';

const AccountIdSchema = z.string().regex(/^\d{12}$/, { error: 'an AWS account id is 12 digits' });
const RegionSchema = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: 'not an AWS region name' });
const positiveInt = z.int().positive();
/** The API functions' entries (functions/<entry>.ts), one function each. */
const API_ENTRIES: readonly string[] = [...new Set(routes.map((route) => route.entry))].sort();

export const CouncilConfigSchema = z.strictObject({
  /** ODS code: the key of the council's queue and of its messages. */
  code: CouncilCodeSchema,
  name: z.string().min(1),
  /** The council's own AWS account: the only account allowed to receive and delete its messages. */
  consumerAccountId: AccountIdSchema,
  /** How long the council's consumer may take over one message; the queue's visibility is 6 times this. */
  consumerTimeoutSeconds: positiveInt.max(2000).default(30),
  /** Deliveries before a message moves to the council's dead-letter queue (at least 5). */
  maxReceiveCount: positiveInt.min(5).default(5),
});
export type CouncilConfig = z.infer<typeof CouncilConfigSchema>;

const httpsUrl = (name: string) => z.url().startsWith('https://', { error: `${name} must be an https URL` });

export const IssuerConfigSchema = z
  .strictObject({
    /** How its tokens are read: `cis2` (clinicians, role profile from UserInfo) or `client-credentials`. */
    kind: z.enum(['cis2', 'client-credentials']),
    /** Exactly the `issuer` of its discovery document (and its tokens' `iss`); https, never the local provider. */
    issuer: httpsUrl('issuer'),
    /** Its OpenID discovery document (JWKS and UserInfo addresses); default `<issuer>/.well-known/openid-configuration`. */
    discoveryUrl: httpsUrl('discoveryUrl').optional(),
    /** The `aud` its tokens must name; client-credentials default to the stage's audience, CIS2 has none. */
    audience: z.string().min(1).optional(),
    /** The roles its tokens may assert; a token asserting any other is refused (401). */
    roles: z.array(z.enum(ROLES)).min(1, { error: 'roles must list at least one role' }),
    /**
     * A regular expression the token's whole `org` must match (anchored whether or not it has ^ and $),
     * e.g. '^E\\d{8}$' for councils; a token for any other organisation is refused (401).
     */
    orgPattern: z.string().superRefine((source, ctx) => {
      const problem = orgPatternProblem(source);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
    /** `cis2`: the authentication assurance its tokens must carry (default AAL3_ANY, smartcard). */
    acr: z.string().min(1).optional(),
    /**
     * `cis2`: the client ids (the web view's, the clinical systems') whose tokens this stage accepts: the
     * token's `client_id` (RFC 9068) or `azp` must be one. CIS2's access tokens name no audience, so
     * without this any CIS2 relying party's token would be accepted.
     */
    clients: z.array(z.string().min(1)).min(1).optional(),
  })
  .superRefine((issuer, ctx) => {
    if (issuer.kind === 'cis2' && issuer.roles.some((role) => role !== 'clinician'))
      ctx.addIssue({
        code: 'custom',
        path: ['roles'],
        message: 'a cis2 issuer asserts the clinician role only',
      });
    if (issuer.kind !== 'cis2' && issuer.acr !== undefined)
      ctx.addIssue({ code: 'custom', path: ['acr'], message: 'acr applies to cis2 issuers only' });
    if (issuer.kind === 'cis2' && issuer.audience === undefined && issuer.clients === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['clients'],
        message: 'a cis2 issuer must name its audience or the clients whose tokens the stage accepts',
      });
    if (issuer.kind !== 'cis2' && issuer.clients !== undefined)
      ctx.addIssue({ code: 'custom', path: ['clients'], message: 'clients applies to cis2 issuers only' });
  });

const MutualTlsSchema = z.strictObject({
  /** S3 bucket and key of the PEM bundle of CA certificates that council systems' client certificates chain to. */
  truststoreBucket: z.string().min(3),
  truststoreKey: z.string().min(1),
  truststoreVersion: z.string().min(1).optional(),
});

const DomainSchema = z
  .strictObject({
    domainName: z.string().regex(/^([a-z0-9-]+\.)+[a-z]{2,}$/, { error: 'not a DNS name' }),
    /** ACM certificate in this region covering domainName. */
    certificateArn: z.string().regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/),
    /**
     * TLS 1.2 or later only. The TLS13_ policies are API Gateway's enhanced ones: the domain then gets
     * the STRICT endpoint access mode, and they do not support mutual TLS.
     */
    securityPolicy: z.enum(['TLS_1_2', 'TLS13_1_3_2025_09', 'TLS13_1_2_PFS_PQ_2025_09']).default('TLS_1_2'),
    /** Require client certificates (council systems). The default execute-api endpoint is then disabled. */
    mutualTls: MutualTlsSchema.optional(),
  })
  .superRefine((domain, ctx) => {
    if (domain.mutualTls && domain.securityPolicy !== 'TLS_1_2') {
      ctx.addIssue({
        code: 'custom',
        path: ['mutualTls'],
        message: `API Gateway does not support mutual TLS with the enhanced policy ${domain.securityPolicy}: use securityPolicy TLS_1_2 with mutualTls, or drop mutualTls`,
      });
    }
  });

export const RegionConfigSchema = z.strictObject({
  region: RegionSchema,
  /** Councils homed here: their queues live in this region and this region's dispatcher feeds them. */
  councils: z.array(CouncilConfigSchema),
  /** The region's operations team: alarm notifications go here. */
  alarmEmails: z.array(z.email()).min(1),
  /** Custom domain for this region's API (optional; without it the execute-api URL is used). */
  domain: DomainSchema.optional(),
});
export type RegionConfig = z.infer<typeof RegionConfigSchema>;

const ThrottleSchema = z.strictObject({ rateLimit: positiveInt, burstLimit: positiveInt });

/** A WAF rate-based rule's limit per (60-second) window: WAF takes 10 to 2,000,000,000. */
const wafRateLimit = positiveInt
  .min(10, { error: 'WAF rate limits are at least 10 per window' })
  .max(2_000_000_000);

export const LimitsSchema = z.strictObject({
  /** Per caller (bearer token) on every route, enforced by WAF per minute (contract default 300). */
  requestsPerMinutePerCaller: wafRateLimit.default(300),
  /** Per caller (bearer token) on rate-limited routes, enforced by WAF (contract default 120). */
  lookupsPerMinutePerUser: wafRateLimit.default(120),
  /** Per organisation on rate-limited routes (contract default 1,200); see docs/deploy.md for how. */
  lookupsPerMinutePerOrganisation: wafRateLimit.default(1200),
  /** API Gateway throttling of each method (requests per second, all callers together). */
  methodThrottle: ThrottleSchema.default({ rateLimit: 100, burstLimit: 200 }),
  /** Tighter throttling of rate-limited methods (lookups). */
  rateLimitedMethodThrottle: ThrottleSchema.default({ rateLimit: 50, burstLimit: 100 }),
  reservedConcurrency: z
    .strictObject({
      authorizer: positiveInt,
      /** Every API function unless named in byEntry. */
      api: positiveInt,
      dispatch: positiveInt,
      /** API functions by route entry (functions/http/routes.ts), e.g. { lookup: 100 }. */
      byEntry: z
        .record(z.string(), positiveInt)
        .superRefine((byEntry, ctx) => {
          for (const entry of Object.keys(byEntry)) {
            if (API_ENTRIES.includes(entry)) continue;
            ctx.addIssue({
              code: 'custom',
              path: [entry],
              message: `no API function has entry "${entry}"; byEntry takes ${API_ENTRIES.join(', ')} (the authorizer and dispatch functions have settings of their own)`,
            });
          }
        })
        .default({}),
    })
    .default({ authorizer: 20, api: 10, dispatch: 5, byEntry: {} }),
});
export type Limits = z.infer<typeof LimitsSchema>;

export const AlarmThresholdsSchema = z.strictObject({
  /** Share of API requests answered 5xx over 5 minutes, in percent. */
  serverErrorRatePercent: z.number().positive().max(100).default(1),
  /** p99 latency of the API over 5 minutes, in milliseconds. */
  p99LatencyMs: positiveInt.default(2000),
  /** Age of the oldest stream record the dispatcher has not yet processed, in seconds. */
  streamIteratorAgeSeconds: positiveInt.default(60),
  /**
   * Age of the oldest notification a council has not yet received, in minutes: a council whose system
   * stops receiving never fills its dead-letter queue, and SQS deletes its messages after 14 days.
   */
  councilQueueOldestMessageMinutes: positiveInt.max(7 * 24 * 60).default(60),
});

/** The clinician web view's hosting and the page's configuration (stacks/web-view-stack.ts). */
export const WebViewConfigSchema = z.strictObject({
  /** The issuer clinicians sign in with: one of the stage's issuers for the clinician role. */
  issuer: z.url().startsWith('https://', { error: 'issuer must be an https URL' }),
  /** The page's OpenID client at that issuer (public, authorization code with PKCE). */
  clientId: z.string().min(1),
  /** The region whose API the page calls (default: the primary region); see stacks/web-view-stack.ts. */
  apiRegion: RegionSchema.optional(),
  /** Optional own name for the page; the ACM certificate must be in us-east-1 (CloudFront's). */
  domain: z
    .strictObject({
      domainName: z.string().regex(/^([a-z0-9-]+\.)+[a-z]{2,}$/, { error: 'not a DNS name' }),
      certificateArn: z.string().regex(/^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[A-Za-z0-9-]+$/, {
        error: 'a CloudFront certificate is an ACM certificate in us-east-1',
      }),
    })
    .optional(),
  /** Countries (ISO 3166-1 alpha-2) the page is served to. */
  countries: z
    .array(z.string().regex(/^[A-Z]{2}$/))
    .min(1)
    .default(['GB']),
});

export const StageConfigSchema = z
  .strictObject({
    /** Stage name: the Stage construct id, so `cdk deploy '<name>/*'` deploys it. */
    name: z
      .string()
      .regex(/^[a-z][a-z0-9]{1,11}$/, { error: 'stage names are 2 to 12 lower-case letters or digits' }),
    account: AccountIdSchema,
    /** The region whose Data stack owns the global table; every other region holds a replica. */
    primaryRegion: RegionSchema,
    regions: z.array(RegionConfigSchema).min(1),
    identity: z.strictObject({
      /** Audience expected in tokens of issuers that name none. */
      audience: z.string().min(1),
      issuers: z.array(IssuerConfigSchema).min(1),
    }),
    limits: LimitsSchema.default(LimitsSchema.parse({})),
    alarms: AlarmThresholdsSchema.default(AlarmThresholdsSchema.parse({})),
    /**
     * Bump after the table is re-created (restored under its own name): every region then looks up
     * its replica's new stream at the next deploy.
     */
    tableGeneration: positiveInt.default(1),
    logRetentionDays: z
      .union([z.literal(30), z.literal(90), z.literal(180), z.literal(365), z.literal(731), z.literal(2192)])
      .default(365),
    /** The clinician web view, when the stage serves one. */
    webView: WebViewConfigSchema.optional(),
  })
  .superRefine((stage, ctx) => {
    const regions = stage.regions.map((region) => region.region);
    const webView = stage.webView;
    if (webView) {
      const apiRegion = stage.regions.find(
        (region) => region.region === (webView.apiRegion ?? stage.primaryRegion),
      );
      if (
        !stage.identity.issuers.some(
          (entry) => entry.issuer === webView.issuer && entry.roles.includes('clinician'),
        )
      )
        ctx.addIssue({
          code: 'custom',
          path: ['webView', 'issuer'],
          message: 'webView.issuer must be one of identity.issuers whose roles include clinician',
        });
      const clinicianIssuer = stage.identity.issuers.find((entry) => entry.issuer === webView.issuer);
      if (clinicianIssuer?.clients && !clinicianIssuer.clients.includes(webView.clientId))
        ctx.addIssue({
          code: 'custom',
          path: ['webView', 'clientId'],
          message: `webView.clientId must be one of the clients its issuer accepts (${clinicianIssuer.clients.join(', ')}): the page's tokens would be refused`,
        });
      if (webView.apiRegion && !apiRegion)
        ctx.addIssue({
          code: 'custom',
          path: ['webView', 'apiRegion'],
          message: "webView.apiRegion must be one of the stage's regions",
        });
    }
    if (new Set(regions).size !== regions.length) {
      ctx.addIssue({
        code: 'custom',
        message: `stage ${stage.name} lists a region twice`,
        path: ['regions'],
      });
    }
    if (!regions.includes(stage.primaryRegion)) {
      ctx.addIssue({
        code: 'custom',
        message: `primaryRegion ${stage.primaryRegion} must be one of the stage's regions`,
        path: ['primaryRegion'],
      });
    }
    const codes = stage.regions.flatMap((region) => region.councils.map((council) => council.code));
    const repeated = codes.filter((code, index) => codes.indexOf(code) !== index);
    if (repeated.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `a council is homed in exactly one region; listed more than once: ${[...new Set(repeated)].join(', ')}`,
        path: ['regions'],
      });
    }
  });
export type StageConfig = z.infer<typeof StageConfigSchema>;
export type StageConfigInput = z.input<typeof StageConfigSchema>;

export const AppConfigSchema = z.array(StageConfigSchema).superRefine((stages, ctx) => {
  const names = stages.map((stage) => stage.name);
  if (new Set(names).size !== names.length)
    ctx.addIssue({ code: 'custom', message: 'stage names must be unique' });
});
export type AppConfig = z.infer<typeof AppConfigSchema>;

/** Validates stage configs, naming the first problem's path in the error. */
export function parseConfig(input: readonly StageConfigInput[]): AppConfig {
  const parsed = AppConfigSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(config)'}: ${issue.message}`,
    );
    throw new Error(`Invalid stage configuration:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}

/**
 * The stages `-c stages=dev,prod` names (every stage without it). A name that is no stage, an empty
 * name or a value that is not a list is refused: a typo must not quietly leave a stage out.
 */
export function selectStages(config: AppConfig, wanted: unknown): AppConfig {
  if (wanted === undefined) return config;
  const known = config.map((stage) => stage.name);
  if (typeof wanted !== 'string')
    throw new Error(
      `stages must be a comma-separated list of stage names (${known.join(', ')}), not ${JSON.stringify(wanted)}`,
    );
  const names = wanted.split(',').map((name) => name.trim());
  if (names.every((name) => name === ''))
    throw new Error(
      `-c stages=${wanted} names no stage; the stages are ${known.join(', ')} (leave out -c stages for all)`,
    );
  if (names.includes(''))
    throw new Error(`-c stages=${wanted} has an empty stage name; the stages are ${known.join(', ')}`);
  const unknown = [...new Set(names.filter((name) => !known.includes(name)))];
  if (unknown.length > 0) {
    throw new Error(
      `-c stages=${wanted}: no stage${unknown.length > 1 ? 's' : ''} named ${unknown.join(', ')}; the stages are ${known.join(', ')}`,
    );
  }
  return config.filter((stage) => names.includes(stage.name));
}

/** CIS2 (NHS Care Identity Service 2) issuers: integration, and production (whose issuer names its port). */
export const CIS2_INTEGRATION =
  'https://am.nhsint.auth-ptl.cis2.spineservices.nhs.uk/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare';
export const CIS2_PRODUCTION =
  'https://am.nhsidentity.spineservices.nhs.uk:443/openam/oauth2/realms/root/realms/oidc';

/**
 * The stages operations teams deploy. Account ids, council accounts, issuers and addresses below are
 * placeholders until each team fills in its own (see docs/deploy.md).
 */
export const stages: StageConfigInput[] = [
  {
    name: 'dev',
    account: '111111111111',
    primaryRegion: 'eu-west-2',
    identity: {
      audience: 'child-protection-sharing-dev',
      issuers: [
        // Clinicians: CIS2's integration environment, for NHS organisations' ODS codes (trusts, their
        // sites, practices: 3 to 6 letters or digits), smartcard assurance.
        {
          kind: 'cis2',
          issuer: CIS2_INTEGRATION,
          discoveryUrl: `${CIS2_INTEGRATION}/.well-known/openid-configuration`,
          roles: ['clinician'],
          orgPattern: '^[A-Z0-9]{3,6}$',
          acr: 'AAL3_ANY',
          clients: ['cpis-web-view-dev'],
        },
        // Council systems: the stage's client-credentials issuer (e.g. a Cognito user pool whose app
        // clients are the councils' systems), for councils' own codes only.
        {
          kind: 'client-credentials',
          issuer: 'https://councils-auth.int.example.org',
          roles: ['council'],
          orgPattern: '^E\\d{8}$',
        },
        // National systems: the demographics feed (NHS number changes, sensitivity) and information
        // governance's audit tools, client credentials for their national organisation codes only.
        {
          kind: 'client-credentials',
          issuer: 'https://services-auth.int.example.nhs.uk',
          roles: ['demographics', 'auditor'],
          orgPattern: '^X\\d{2}$',
        },
      ],
    },
    limits: {
      reservedConcurrency: { authorizer: 5, api: 2, dispatch: 2, byEntry: {} },
    },
    webView: { issuer: CIS2_INTEGRATION, clientId: 'cpis-web-view-dev' },
    logRetentionDays: 30,
    regions: [
      {
        region: 'eu-west-2',
        alarmEmails: ['cpis-dev-alerts@example.org'],
        councils: [
          { code: 'E09000001', name: 'City of London (test)', consumerAccountId: '111111111111' },
          { code: 'E09000033', name: 'Westminster (test)', consumerAccountId: '111111111111' },
        ],
      },
    ],
  },
  {
    name: 'prod',
    account: '222222222222',
    primaryRegion: 'eu-west-2',
    identity: {
      audience: 'child-protection-sharing',
      issuers: [
        // Clinicians, for NHS organisations' ODS codes.
        {
          kind: 'cis2',
          issuer: CIS2_PRODUCTION,
          discoveryUrl: `${CIS2_PRODUCTION}/.well-known/openid-configuration`,
          acr: 'AAL3_ANY',
          roles: ['clinician'],
          orgPattern: '^[A-Z0-9]{3,6}$',
          clients: ['cpis-web-view'],
        },
        // Council systems, for councils' own codes only.
        {
          kind: 'client-credentials',
          issuer: 'https://councils-auth.example.org',
          roles: ['council'],
          orgPattern: '^E\\d{8}$',
        },
        // National systems: the demographics feed and information governance's audit tools.
        {
          kind: 'client-credentials',
          issuer: 'https://services-auth.example.nhs.uk',
          roles: ['demographics', 'auditor'],
          orgPattern: '^X\\d{2}$',
        },
      ],
    },
    limits: {
      reservedConcurrency: { authorizer: 50, api: 20, dispatch: 10, byEntry: { lookup: 100 } },
    },
    webView: { issuer: CIS2_PRODUCTION, clientId: 'cpis-web-view' },
    logRetentionDays: 2192,
    regions: [
      {
        region: 'eu-west-2',
        alarmEmails: ['cpis-ops-london@example.org'],
        domain: {
          domainName: 'api.cpis.example.org',
          certificateArn:
            'arn:aws:acm:eu-west-2:222222222222:certificate/00000000-0000-0000-0000-000000000000',
          securityPolicy: 'TLS_1_2',
        },
        councils: [
          { code: 'E09000001', name: 'City of London', consumerAccountId: '333333333333' },
          { code: 'E09000033', name: 'Westminster', consumerAccountId: '444444444444' },
        ],
      },
      {
        region: 'eu-west-1',
        alarmEmails: ['cpis-ops-north@example.org'],
        councils: [{ code: 'E08000003', name: 'Manchester', consumerAccountId: '555555555555' }],
      },
    ],
  },
];

/** Every council of the stage by home region, as the dispatch function reads it (COUNCIL_HOMES, JSON). */
export function councilHomes(stage: StageConfig): string {
  const homes: CouncilHomes = Object.fromEntries(
    stage.regions.map((region) => [region.region, region.councils.map((council) => council.code).sort()]),
  );
  return JSON.stringify(homes);
}

/** Every council of the stage, whichever region it is homed in, as the functions read it (JSON array). */
export function stageCouncilCodes(stage: StageConfig): string {
  return JSON.stringify(
    stage.regions.flatMap((region) => region.councils.map((council) => council.code)).sort(),
  );
}
