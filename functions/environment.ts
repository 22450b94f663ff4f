/**
 * Each function's environment, as a schema: read once when the function starts, so that a missing or
 * malformed variable stops it at once with a message naming the variable and its expected form,
 * instead of failing (or silently misbehaving) on some later event. The authorizer and the dispatch
 * function check theirs without zod, at their cold starts (http/authorizer-settings.ts,
 * notify/dispatch-settings.ts; docs/adr/0059): their schemas here wrap those checks.
 */
import * as z from 'zod/mini';
import { lazily } from './core/lazily';
import { environmentError, type SettingsCheck } from './environment-error';
import { checkAuthorizerSettings } from './http/authorizer-settings';
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

/** A schema for an environment checked by a function's own zod-free check (docs/adr/0059). */
const checkedBy = <T>(check: SettingsCheck<T>) =>
  z.pipe(
    z.custom<Record<string, string | undefined>>((source) => typeof source === 'object' && source !== null),
    z.transform((source, context): T => {
      const { settings, problems } = check(source);
      for (const { name, message } of problems)
        context.issues.push({ code: 'custom', input: source[name], path: [name], message });
      return settings === undefined || problems.length > 0 ? z.NEVER : settings;
    }),
  );

const councilCodes = () => z.array(z.string().check(z.minLength(1)));

const TABLE_NAME = setTo('the DynamoDB table name (the stacks set it)');

export const TableEnvironment = z.object({ TABLE_NAME });

/**
 * Each built on first use (core/lazily.ts): a function builds only its own schema at cold start (the
 * catalogue, read by the stacks, builds them all).
 */
const schemas = {
  authorizer: lazily(() => checkedBy(checkAuthorizerSettings)),
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
  dispatch: lazily(() => checkedBy(checkDispatchSettings)),
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
