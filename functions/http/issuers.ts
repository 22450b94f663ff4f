/**
 * The identity services whose tokens the service trusts (JWT_ISSUERS), and what each one's tokens may
 * assert. Checked without zod: the authorizer reads them at its cold start (docs/adr/0059), and the
 * stacks test the list they deploy with the same check.
 */
import { ROLES, type Role } from '../core/claim-rules';

/** Kinds of issuer, by how their tokens are read (docs/api.md, Identity). */
export const ISSUER_KINDS = ['cis2', 'client-credentials'] as const;

/** One trusted issuer, and what its tokens may assert: any other role or organisation is refused (401). */
export interface IssuerConfig {
  /** `cis2`: clinicians, claims from UserInfo's selected role; `client-credentials`: from the token. */
  kind: (typeof ISSUER_KINDS)[number];
  issuer: string;
  /** The discovery document (its JWKS and UserInfo addresses); default: the issuer's well-known one. */
  discoveryUrl?: string;
  audience?: string;
  /** The roles its tokens may assert. */
  roles: Role[];
  /** A regular expression the token's whole `org` must match, e.g. ^E\d{8}$ for councils. */
  orgPattern: string;
  /** `cis2`: the authentication assurance its tokens must carry (default AAL3_ANY). */
  acr?: string;
  /** `cis2`: the client ids whose tokens it accepts (the token's `client_id`, RFC 9068, or `azp`). */
  clients?: string[];
}

/**
 * An issuer's `orgPattern` as the authorizer applies it: the token's whole `org` must match, whether or
 * not the source has its own ^ and $. Unicode mode, so a malformed pattern is refused rather than read
 * loosely (without it, `E\d{8` would match the literal text "E", a digit and "{8").
 */
export const wholeOrgPattern = (source: string): RegExp => new RegExp(`^(?:${source})$`, 'u');

/** Why `source` is no `orgPattern`, or undefined when it is one. */
export function orgPatternProblem(source: string): string | undefined {
  if (source === '') return 'orgPattern must not be empty';
  try {
    wholeOrgPattern(source);
    return undefined;
  } catch (error) {
    // The engine's reason, without its restatement of the (wrapped) pattern: "Incomplete quantifier".
    const reason = (error as Error).message.split(': ').pop();
    return `orgPattern ${JSON.stringify(source)} is not a regular expression: ${reason}`;
  }
}

/** An identity service's address: https, or http on a loopback address (the local provider). */
const isIdentityUrl = (url: string) =>
  url.startsWith('https://') || /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//.test(url);

/** Where an issuer's discovery document is: its `discoveryUrl`, else the issuer's well-known address. */
export const discoveryUrlOf = (issuer: { issuer: string; discoveryUrl?: string }): string =>
  issuer.discoveryUrl ?? `${issuer.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;

/** What is wrong with an issuer list: where (`1.orgPattern`) and what, one entry per problem. */
export interface IssuerProblem {
  path: string;
  message: string;
}

const FIELDS: readonly (keyof IssuerConfig)[] = [
  'kind',
  'issuer',
  'discoveryUrl',
  'audience',
  'roles',
  'orgPattern',
  'acr',
  'clients',
];

const isText = (value: unknown): value is string => typeof value === 'string';
const isNonEmptyText = (value: unknown): value is string => isText(value) && value.length > 0;

/** A URL as an issuer entry gives it: surrounding spaces and any tab or line break are dropped. */
function urlOf(value: unknown): string | undefined {
  if (!isText(value)) return undefined;
  const trimmed = value.trim();
  return URL.canParse(trimmed) ? trimmed.replace(/[\t\n\r]/g, '') : undefined;
}

function readIssuer(entry: unknown, at: string, problems: IssuerProblem[]): IssuerConfig | undefined {
  const problem = (field: string, message: string) => problems.push({ path: `${at}.${field}`, message });
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    problems.push({ path: at, message: 'must be an object' });
    return undefined;
  }
  const given = entry as Record<string, unknown>;
  const before = problems.length;
  for (const key of Object.keys(given))
    if (!(FIELDS as readonly string[]).includes(key)) problem(key, 'is not a field of an issuer');
  const { kind, audience, roles, orgPattern, acr, clients } = given;
  if (!ISSUER_KINDS.includes(kind as IssuerConfig['kind']))
    problem('kind', `must be one of ${ISSUER_KINDS.join(', ')}`);
  const issuer = urlOf(given.issuer);
  if (issuer === undefined) problem('issuer', 'must be a URL');
  const discoveryUrl = given.discoveryUrl === undefined ? undefined : urlOf(given.discoveryUrl);
  if (given.discoveryUrl !== undefined && discoveryUrl === undefined)
    problem('discoveryUrl', 'must be a URL');
  if (audience !== undefined && !isNonEmptyText(audience)) problem('audience', 'must be a non-empty string');
  if (!Array.isArray(roles) || !roles.every((role) => ROLES.includes(role)))
    problem('roles', `must be a list of roles: ${ROLES.join(', ')}`);
  else if (roles.length === 0) problem('roles', 'roles must list at least one role');
  if (!isText(orgPattern)) problem('orgPattern', 'must be a regular expression, as a string');
  else {
    const patternProblem = orgPatternProblem(orgPattern);
    if (patternProblem) problem('orgPattern', patternProblem);
  }
  if (acr !== undefined && !isNonEmptyText(acr)) problem('acr', 'must be a non-empty string');
  if (
    clients !== undefined &&
    !(Array.isArray(clients) && clients.length > 0 && clients.every(isNonEmptyText))
  )
    problem('clients', 'must be a non-empty list of client ids');
  if (problems.length > before) return undefined;
  // In the field order above, as the issuer list has always been read.
  const config = {
    kind,
    issuer,
    ...(discoveryUrl !== undefined && { discoveryUrl }),
    ...(audience !== undefined && { audience }),
    roles: [...(roles as Role[])],
    orgPattern,
    ...(acr !== undefined && { acr }),
    ...(clients !== undefined && { clients: [...(clients as string[])] }),
  } as IssuerConfig;
  if (!isIdentityUrl(discoveryUrlOf(config)))
    problem(
      'discoveryUrl',
      'the discovery document must be at an https URL (http only on a loopback address)',
    );
  if (config.kind === 'cis2' && !config.roles.every((role) => role === 'clinician'))
    problem('roles', 'a cis2 issuer asserts the clinician role only');
  // Without either, any relying party's CIS2 token would be accepted as a call to this service.
  if (config.kind === 'cis2' && config.audience === undefined && config.clients === undefined)
    problem('clients', 'a cis2 issuer must name its audience or the clients whose tokens it accepts');
  return problems.length > before ? undefined : config;
}

/** The issuer list `value` gives, and every problem with it (none: the list is good). */
export function checkIssuers(value: unknown): { issuers?: IssuerConfig[]; problems: IssuerProblem[] } {
  if (!Array.isArray(value)) return { problems: [{ path: '', message: 'must be a list of issuers' }] };
  const problems: IssuerProblem[] = [];
  const issuers = value.map((entry, index) => readIssuer(entry, String(index), problems));
  return problems.length > 0 ? { problems } : { issuers: issuers as IssuerConfig[], problems };
}

/** JWT_ISSUERS read into the issuer list, or an error naming every problem. */
export function parseIssuers(json: string): IssuerConfig[] {
  const { issuers, problems } = checkIssuers(JSON.parse(json));
  if (issuers) return issuers;
  throw new Error(
    `Invalid issuer list: ${problems.map(({ path, message }) => `${path || 'list'}: ${message}`).join('; ')}`,
  );
}
