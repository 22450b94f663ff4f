/** Settings of the local runtime, from environment variables, checked before anything starts. */
import * as z from 'zod';
import { DEFAULT_COUNCIL_QUEUE_NAME_PREFIX } from '../functions/notify/dispatch-settings';

const positiveInt = (name: string, fallback: number) =>
  z
    .string()
    .regex(/^\d+$/, { error: `${name} must be a whole number` })
    .transform(Number)
    .refine((n) => n >= 1, { error: `${name} must be at least 1` })
    .optional()
    .transform((n) => n ?? fallback);

const LocalConfigSchema = z.object({
  PORT: z
    .string()
    .regex(/^\d+$/, { error: 'PORT must be a port number' })
    .transform(Number)
    .refine((n) => n >= 0 && n <= 65535, { error: 'PORT must be from 0 to 65535' })
    .optional()
    .transform((n) => n ?? 3000),
  HOST: z
    .string()
    .min(1)
    .optional()
    .transform((host) => host ?? '127.0.0.1'),
  DATA_DIR: z.string().min(1).optional(),
  TABLE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{3,255}$/, { error: 'TABLE_NAME must be 3 to 255 letters, digits, _ . or -' })
    .optional()
    .transform((name) => name ?? 'child-protection-local'),
  COUNCIL_QUEUE_NAME_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,40}$/, {
      error: 'COUNCIL_QUEUE_NAME_PREFIX must be up to 40 letters, digits, _ or -',
    })
    .optional()
    .transform((prefix) => prefix ?? DEFAULT_COUNCIL_QUEUE_NAME_PREFIX),
  RATE_PER_CALLER: positiveInt('RATE_PER_CALLER', 300),
  LOOKUP_RATE_PER_USER: positiveInt('LOOKUP_RATE_PER_USER', 120),
  LOOKUP_RATE_PER_ORG: positiveInt('LOOKUP_RATE_PER_ORG', 1200),
  SNAPSHOT_MAX_END_SHARE: z
    .string()
    .regex(/^(0(\.\d+)?|1(\.0+)?)$/, {
      error: 'SNAPSHOT_MAX_END_SHARE must be a number from 0 to 1, e.g. 0.1',
    })
    .optional(),
  PLAN_WRITE_CONCURRENCY: z
    .string()
    .regex(/^([1-9]|[12]\d|3[0-2])$/, {
      error: 'PLAN_WRITE_CONCURRENCY must be a whole number from 1 to 32',
    })
    .optional(),
});
export type LocalConfig = z.infer<typeof LocalConfigSchema>;

export function readLocalConfig(env: NodeJS.ProcessEnv): LocalConfig {
  const parsed = LocalConfigSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`Invalid configuration: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
  }
  return parsed.data;
}
