/** `npm run --silent token -- --role clinician --org RXX01 ...`: prints one signed development token. */
import { parseArgs } from 'node:util';
import { ClaimsSchema } from '../functions/core/schemas';
import { signDevToken } from './dev-key';

const USAGE = `Usage: npm run --silent token -- --role clinician|council|auditor|demographics --org ODS_CODE
       [--sub ID] [--name "Display Name"] [--activity B0107] [--activity B0170] [--setting LABEL] [--ttl SECONDS]`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      org: { type: 'string' },
      sub: { type: 'string' },
      name: { type: 'string' },
      activity: { type: 'string', multiple: true },
      setting: { type: 'string' },
      ttl: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const role = values.role;
  const claims = ClaimsSchema.safeParse({
    sub: values.sub ?? `${role ?? 'user'}-1`,
    name: values.name ?? `Local ${role ?? 'user'}`,
    org: values.org ?? (role === 'auditor' ? 'X26' : role === 'demographics' ? 'X09' : undefined),
    role,
    activities: values.activity ?? [],
    setting: values.setting,
  });
  if (!claims.success) {
    const problems = claims.error.issues
      .map((issue) => `--${issue.path.join('.')}: ${issue.message}`)
      .join('\n');
    throw new Error(`${problems}\n${USAGE}`);
  }
  const ttl = values.ttl === undefined ? 3600 : Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 43_200) throw new Error('--ttl must be 1 to 43200 seconds');
  process.stdout.write(`${await signDevToken(claims.data, { ttlSeconds: ttl })}\n`);
}

main().catch((error) => {
  console.error((error as Error).message);
  process.exit(2);
});
