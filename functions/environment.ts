/**
 * Each function's environment, as a schema: read once when the function starts, so that a missing or
 * malformed variable stops it at once with a message naming the variable and its expected form,
 * instead of failing (or silently misbehaving) on some later event. zod/mini: the authorizer imports
 * this too. The dispatch function checks its own without zod (notify/dispatch-settings.ts, docs/adr/0059);
 * its schema here wraps that check.
 */
import * as z from 'zod/mini';
import { ROLES } from './core/claims';
import { lazily } from './core/lazily';
import { environmentError } from './environment-error';
import { checkDispatchSettings } from './notify/dispatch-settings';

export { EnvironmentError } from './environment-error';

const setTo = (form: string) => z.string().check(z.minLength(1, `must not be empty: ${form}`));

/** A variable holding JSON that `schema` accepts. */
const jsonOf = (schema: z.ZodMiniType, form: string) =>
  z.string().check(
    z.refine((value) => {
      try {
        return schema.safeParse(JSON.parse(value)).success;
      } catch {
        return false;
      }
    }, `must be ${form}`),
  );

/** A variable holding JSON that `schema` accepts, read as what `schema` makes of it. */
const parsedJsonOf = <T extends z.ZodMiniType>(schema: T, form: string) =>
  z.pipe(
    z.string(),
    z.transform((value, context): z.output<T> => {
      let json: unknown;
      try {
        json = JSON.parse(value);
      } catch {
        json = undefined;
      }
      const parsed = json === undefined ? undefined : schema.safeParse(json);
      if (parsed?.success) return parsed.data as z.output<T>;
      context.issues.push({ code: 'custom', input: value, message: `must be ${form}` });
      return z.NEVER;
    }),
  );

/**
 * An optional setting written as text matching `pattern`: unset gives `fallback`; set (even to "") it
 * must match, so 0x8, 1e1, " 8" or an empty value are refused rather than read as Number() would.
 */
const setting = (pattern: RegExp, form: string, fallback?: string) =>
  z.string().check(
    z.superRefine((value, context) => {
      if (value === '' && fallback !== undefined)
        context.addIssue({
          code: 'custom',
          input: value,
          message: `is set but empty: unset it for the default (${fallback}), or give ${form}`,
        });
      else if (!pattern.test(value))
        context.addIssue({ code: 'custom', input: value, message: `must be ${form}, not "${value}"` });
    }),
  );

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

/** Kinds of issuer, by how their tokens are read (docs/api.md, Identity). */
export const ISSUER_KINDS = ['cis2', 'client-credentials'] as const;

/** An identity service's address: https, or http on a loopback address (the local provider). */
const isIdentityUrl = (url: string) =>
  url.startsWith('https://') || /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//.test(url);

/** Where an issuer's discovery document is: its `discoveryUrl`, else the issuer's well-known address. */
export const discoveryUrlOf = (issuer: { issuer: string; discoveryUrl?: string }): string =>
  issuer.discoveryUrl ?? `${issuer.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;

/**
 * One trusted issuer, and what its tokens may assert: any other role or organisation is refused (401).
 * Built on first use: only the authorizer reads issuers (docs/adr/0053).
 */
const issuerSchema = lazily(() =>
  z
    .strictObject({
      /** `cis2`: clinicians, claims from UserInfo's selected role; `client-credentials`: from the token. */
      kind: z.enum(ISSUER_KINDS),
      issuer: z.url(),
      /** The discovery document (its JWKS and UserInfo addresses); default: the issuer's well-known one. */
      discoveryUrl: z.optional(z.url()),
      audience: z.optional(z.string().check(z.minLength(1))),
      /** The roles its tokens may assert. */
      roles: z.array(z.enum(ROLES)).check(z.minLength(1, 'roles must list at least one role')),
      /** A regular expression the token's whole `org` must match, e.g. ^E\d{8}$ for councils. */
      orgPattern: z.string().check(
        z.superRefine((source, context) => {
          const problem = orgPatternProblem(source);
          if (problem) context.addIssue({ code: 'custom', input: source, message: problem });
        }),
      ),
      /** `cis2`: the authentication assurance its tokens must carry (default AAL3_ANY). */
      acr: z.optional(z.string().check(z.minLength(1))),
      /** `cis2`: the client ids whose tokens it accepts (the token's `client_id`, RFC 9068, or `azp`). */
      clients: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
    })
    .check(
      z.refine((issuer) => isIdentityUrl(discoveryUrlOf(issuer)), {
        message: 'the discovery document must be at an https URL (http only on a loopback address)',
        path: ['discoveryUrl'],
      }),
      z.refine((issuer) => issuer.kind !== 'cis2' || issuer.roles.every((role) => role === 'clinician'), {
        message: 'a cis2 issuer asserts the clinician role only',
        path: ['roles'],
      }),
      // Without either, any relying party's CIS2 token would be accepted as a call to this service.
      z.refine(
        (issuer) => issuer.kind !== 'cis2' || issuer.audience !== undefined || issuer.clients !== undefined,
        {
          message: 'a cis2 issuer must name its audience or the clients whose tokens it accepts',
          path: ['clients'],
        },
      ),
    ),
);
export type IssuerConfig = z.infer<ReturnType<typeof issuerSchema>>;
export const issuersSchema = lazily(() => z.array(issuerSchema()));

const councilCodes = () => z.array(z.string().check(z.minLength(1)));

const TABLE_NAME = setTo('the DynamoDB table name (the stacks set it)');

export const TableEnvironment = z.object({ TABLE_NAME });

/**
 * Each built on first use (core/lazily.ts): a function builds only its own schema at cold start (the
 * catalogue, read by the stacks, builds them all).
 */
const schemas = {
  authorizer: lazily(() =>
    z.object({
      // Read into the issuer list here, so that the authorizer checks it once (docs/adr/0053).
      JWT_ISSUERS: parsedJsonOf(
        issuersSchema(),
        'a JSON list of { "kind" (cis2 or client-credentials), "issuer", "discoveryUrl"?, "audience"?, "roles", "orgPattern", "acr"?, "clients"? } (the stacks set it; without it every token is refused)',
      ),
      JWT_AUDIENCE: z._default(setTo('the audience tokens must name'), 'child-protection-sharing'),
    }),
  ),
  api: lazily(() => TableEnvironment),
  /** A function that reads nothing from its environment (the FHIR CapabilityStatement). */
  none: lazily(() => z.object({})),
  registerCouncil: lazily(() =>
    z.object({
      TABLE_NAME,
      STAGE_COUNCIL_CODES: z.optional(
        jsonOf(councilCodes(), 'a JSON array of council codes, e.g. ["E09000001"]'),
      ),
    }),
  ),
  upload: lazily(() =>
    z.object({
      TABLE_NAME,
      PLAN_WRITE_CONCURRENCY: z._default(
        setting(/^([1-9]|[12]\d|3[0-2])$/, 'a whole number from 1 to 32', '8'),
        '8',
      ),
      SNAPSHOT_MAX_END_SHARE: z._default(
        setting(/^(0(\.\d+)?|1(\.0+)?)$/, 'a number from 0 to 1, e.g. 0.1', '0.1'),
        '0.1',
      ),
      /** Rows per plan transaction: 50 (core/uploads' MAX_ROWS_PER_TRANSACTION) is as many as fit. */
      UPLOAD_ROWS_PER_TRANSACTION: z._default(
        setting(/^([1-9]|[1-4]\d|50)$/, 'a whole number from 1 to 50', '50'),
        '50',
      ),
    }),
  ),
  dispatch: lazily(() =>
    z.pipe(
      z.custom<Record<string, string | undefined>>((source) => typeof source === 'object' && source !== null),
      z.transform((source, context) => {
        const { settings, problems } = checkDispatchSettings(source);
        for (const { name, message } of problems)
          context.issues.push({ code: 'custom', input: source[name], path: [name], message });
        return problems.length > 0 ? z.NEVER : settings;
      }),
    ),
  ),
};

export const environments = {
  get authorizer() {
    return schemas.authorizer();
  },
  get api() {
    return schemas.api();
  },
  get none() {
    return schemas.none();
  },
  get registerCouncil() {
    return schemas.registerCouncil();
  },
  get upload() {
    return schemas.upload();
  },
  get dispatch() {
    return schemas.dispatch();
  },
};

/** Checks `source` against a function's schema; the error lists every variable that is wrong. */
export function readEnvironment<T extends z.ZodMiniType>(
  schema: T,
  source: Record<string, string | undefined> = process.env,
): z.infer<T> {
  const parsed = schema.safeParse(source);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = issue.path.join('.') || 'environment';
    const message =
      issue.code === 'invalid_type' && issue.input === undefined ? 'must be set' : issue.message;
    return `${name} ${message}`;
  });
  throw environmentError(problems);
}
