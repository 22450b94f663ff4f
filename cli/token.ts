/**
 * `npm run --silent token -- --role clinician --org RXX01 ...`: prints one access token from the local
 * identity provider that `npm start` runs (found through the runtime file): a clinician signs in
 * through the authorization code flow with PKCE, any other role uses client credentials.
 */
import { ClaimsSchema, ROLES, type Role } from '../functions/core/schemas';
import { obtainToken } from '../local/identity-tokens';
import { readRuntimeInfo } from '../local/runtime-file';
import { runCli, UsageError } from './args';

/** Organisations of the roles that have one national organisation. */
const DEFAULT_ORG: Partial<Record<Role, string>> = { auditor: 'X26', demographics: 'X09' };

/** What to put right, by the claim that failed ClaimsSchema. */
const CLAIM_PROBLEMS: Record<string, string> = {
  sub: '--sub must be 1 to 200 characters',
  name: '--name must be 1 to 200 characters',
  org: '--org must be an ODS code of 3 to 10 capital letters and digits, e.g. --org RXX01',
  activities:
    'each --activity must be one capital letter and four digits, e.g. B0107, and there may be at most 20',
  setting: '--setting must be 1 to 100 characters',
  roleName: '--role-name must be 1 to 200 characters',
  orgName: '--org-name must be 1 to 200 characters',
};

runCli(
  {
    usage:
      'npm run --silent token -- --role ROLE --org CODE [--sub ID] [--name NAME] [--role-name JOB] [--org-name NAME] [--activity CODE]... [--setting LABEL] [--ttl SECONDS]',
    about:
      'Prints one access token from the identity provider of the running `npm start`: a clinician signs in as a\n' +
      'test user with that role profile (authorization code with PKCE), other roles use client credentials of a\n' +
      'client registered with that role and organisation. Only the local runtime trusts that provider.',
    flags: {
      role: {
        type: 'string',
        value: 'ROLE',
        help: `who the token is for: ${ROLES.join(', ')}`,
        required: `who the token is for, one of ${ROLES.join(', ')}, e.g. --role clinician`,
      },
      org: {
        type: 'string',
        value: 'CODE',
        help: "the organisation's ODS code (an auditor's defaults to X26, demographics' to X09)",
      },
      sub: { type: 'string', value: 'ID', help: "the user's or system's id (default: <role>-1)" },
      name: { type: 'string', value: 'NAME', help: 'display name (default: Local <role>)' },
      activity: {
        type: 'string',
        value: 'CODE',
        multiple: true,
        help: "a clinician's permission code: B0107 (lookups notify the council) or B0170 (silent)",
      },
      setting: { type: 'string', value: 'LABEL', help: 'where a clinician works, e.g. emergency-department' },
      'role-name': {
        type: 'string',
        value: 'JOB',
        help: 'a clinician\'s job role, e.g. "Staff Nurse" (shown in access histories)',
      },
      'org-name': {
        type: 'string',
        value: 'NAME',
        help: "the organisation's name (shown in access histories)",
      },
      ttl: { type: 'string', value: 'SECONDS', help: 'lifetime in seconds, 1 to 43200 (default 3600)' },
    },
    examples: [
      'npm run --silent token -- --role council --org E09000001 --sub la-system --name "Example case system"',
      'npm run --silent token -- --role clinician --org RXX01 --activity B0107 --setting emergency-department',
    ],
  },
  async (values) => {
    const role = values.role as Role;
    if (!ROLES.includes(role)) {
      throw new UsageError(
        `--role must be one of ${ROLES.join(', ')}: ${JSON.stringify(values.role)} is not`,
      );
    }
    const org = values.org ?? DEFAULT_ORG[role];
    if (org === undefined) {
      throw new UsageError(
        `--org is required for a ${role} token: the organisation's ODS code, e.g. --org ${role === 'council' ? 'E09000001' : 'RXX01'}`,
      );
    }
    const claims = ClaimsSchema.safeParse({
      sub: values.sub ?? `${role}-1`,
      name: values.name ?? `Local ${role}`,
      org,
      role,
      activities: values.activity,
      setting: values.setting,
      roleName: values['role-name'],
      orgName: values['org-name'],
    });
    if (!claims.success) {
      throw new UsageError(
        [
          ...new Set(
            claims.error.issues.map((issue) => CLAIM_PROBLEMS[String(issue.path[0])] ?? issue.message),
          ),
        ].join('; '),
      );
    }
    const ttl = values.ttl === undefined ? 3600 : Number(values.ttl);
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 43_200) {
      throw new UsageError('--ttl must be a whole number of seconds from 1 to 43200, e.g. --ttl 3600');
    }
    const { identityOrigin } = await readRuntimeInfo();
    if (!identityOrigin)
      throw new Error('The running local service names no identity provider: restart it with `npm start`');
    process.stdout.write(`${await obtainToken(identityOrigin, claims.data, { ttlSeconds: ttl })}\n`);
    return 0;
  },
);
