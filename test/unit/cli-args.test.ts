/**
 * The command-line tools answer --help, mistyped flags, missing values and missing required flags the
 * same way, before connecting to anything: usage on stdout and exit 0 for --help; one line naming the
 * flag, then the usage line, on stderr and exit 2 for a mistake.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type CliSpec, type Flag, helpText, parseCli, UsageError } from '../../cli/args';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

async function run(cli: string, args: string[]) {
  return promisify(execFile)(
    process.execPath,
    ['--no-warnings', '--import', 'tsx', `cli/${cli}.ts`, ...args],
    {
      cwd: ROOT,
    },
  ).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

/** Each CLI with its flags, a mistyped one and the flag it should suggest, and a required one to leave out. */
const CLIS = [
  {
    cli: 'upload',
    flags: ['--council', '--file', '--snapshot', '--force', '--dry-run', '--url', '--token', '--batch-size'],
    typo: ['--councl', 'E09000001', '--file', 'plans.csv'],
    suggests: '--council',
    missing: { args: ['--council', 'E09000001'], flag: '--file' },
  },
  {
    cli: 'token',
    flags: ['--role', '--org', '--sub', '--name', '--activity', '--setting', '--ttl'],
    typo: ['--role', 'clinician', '--ogr', 'RXX01'],
    suggests: '--org',
    missing: { args: ['--org', 'RXX01'], flag: '--role' },
  },
  {
    cli: 'council-receive',
    flags: ['--council', '--wait', '--follow', '--json', '--dlq'],
    typo: ['--council', 'E09000001', '--wiat', '2'],
    suggests: '--wait',
    missing: { args: ['--wait', '2'], flag: '--council' },
  },
  {
    cli: 'council-connect',
    flags: [
      '--council',
      '--webhook',
      '--secret-env',
      '--dir',
      '--state',
      '--timeout',
      '--retry-base',
      '--retry-max',
      '--wait',
      '--queue-url',
      '--runtime-file',
    ],
    typo: ['--council', 'E09000001', '--webhok', 'http://127.0.0.1:8080/cp-is'],
    suggests: '--webhook',
    missing: { args: ['--dir', 'inbox'], flag: '--council' },
  },
  {
    cli: 'redrive',
    flags: ['--council', '--runtime-file'],
    typo: ['--councel', 'E09000001'],
    suggests: '--council',
    missing: undefined,
  },
];

describe.each(CLIS)('cli/$cli.ts', ({ cli, flags, typo, suggests, missing }) => {
  it('prints its usage, every flag and an example for --help and -h, and exits 0', async () => {
    for (const help of ['--help', '-h']) {
      const outcome = await run(cli, [help]);
      expect(outcome).toMatchObject({ code: 0, stderr: '' });
      expect(outcome.stdout).toContain('Usage: npm run');
      for (const flag of [...flags, '--help']) expect(outcome.stdout).toContain(flag);
      expect(outcome.stdout).toMatch(/Examples?:\n {2}npm run/);
    }
  }, 60_000);

  it('names a mistyped flag, suggests the one meant, and exits 2', async () => {
    const outcome = await run(cli, typo);
    expect(outcome.code).toBe(2);
    const [line, usage, ...rest] = outcome.stderr.split('\n');
    expect(line).toBe(
      `Unknown option ${typo.find((arg) => arg.startsWith('-') && !flags.includes(arg))}: did you mean ${suggests}? Run with --help to see the options.`,
    );
    expect(usage).toMatch(/^Usage: npm run/);
    expect(rest.join('')).toBe('');
    expect(outcome.stdout).toBe('');
  }, 60_000);

  it('names a flag given without its value, and exits 2', async () => {
    const flag = flags.find((name) => name !== '--help') as string;
    const needsValue = cli === 'token' ? '--org' : flag;
    const outcome = await run(cli, [needsValue]);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(
      new RegExp(`^${needsValue} needs a value: give it as ${needsValue} [A-Z]+\\.`),
    );
  }, 60_000);

  it('names an unexpected positional argument, and exits 2', async () => {
    const outcome = await run(cli, ['stray']);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(/^Unexpected argument "stray": this command takes only flags/);
  }, 60_000);

  if (missing) {
    it(`names the missing required flag ${missing.flag}, and exits 2`, async () => {
      const outcome = await run(cli, missing.args);
      expect(outcome.code).toBe(2);
      expect(outcome.stderr).toMatch(
        new RegExp(`^${missing.flag} is required: .*e\\.g\\. ${missing.flag} \\S+\\n`),
      );
      expect(outcome.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }, 60_000);
  }
});

it('the upload CLI shows its progress against the rows counted in the file, and ends with 100%', async () => {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(
        JSON.stringify({
          results: [1, 2].map((row) => ({ row, nhsNumber: '', planType: 'CPP', outcome: 'CREATED' })),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'cli-args-')), 'plans.csv');
    writeFileSync(
      file,
      'nhsNumber,planType,startDate,endDate\n9434765919,CPP,2026-01-05,\n9434765870,LAC,2026-01-06,\n',
    );
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const outcome = await run('upload', [
      '--council',
      'E09000001',
      '--file',
      file,
      '--url',
      url,
      '--token',
      'x',
    ]);
    expect(outcome.code).toBe(0);
    // Not a terminal: plain lines, the last one always.
    expect(outcome.stderr).toMatch(/^Uploaded 2 of 2 rows \(100%\) · [\d,]+ rows\/s · 0 rejected$/m);
    expect(outcome.stderr).not.toContain('\r');
  } finally {
    server.close();
  }
}, 60_000);

describe('parseCli', () => {
  const spec = {
    usage: 'npm run example -- --council CODE [--dry-run] [--tag TAG]...',
    about: 'An example.',
    flags: {
      council: {
        type: 'string',
        value: 'CODE',
        help: 'a council',
        required: 'a council, e.g. --council E09000001',
      },
      'dry-run': { type: 'boolean', help: 'change nothing' },
      tag: { type: 'string', value: 'TAG', multiple: true, help: 'a tag' },
      note: { type: 'string', value: 'TEXT', help: 'a note' },
    },
    examples: ['npm run example -- --council E09000001'],
  } satisfies CliSpec<Record<string, Flag>>;
  const mistake = (args: string[]) => {
    try {
      parseCli(spec, args);
    } catch (error) {
      if (error instanceof UsageError) return error.message;
      throw error;
    }
    throw new Error(`no mistake found in ${args.join(' ')}`);
  };

  it('returns every flag: booleans false and repeatable flags empty when absent', () => {
    expect(parseCli(spec, ['--council', 'E09000001'])).toEqual({
      council: 'E09000001',
      'dry-run': false,
      tag: [],
      note: undefined,
    });
    expect(parseCli(spec, ['--council=E09000001', '--dry-run', '--tag', 'a', '--tag', 'b'])).toEqual({
      council: 'E09000001',
      'dry-run': true,
      tag: ['a', 'b'],
      note: undefined,
    });
  });

  it('answers help wherever --help or -h is, even beside a mistake', () => {
    expect(parseCli(spec, ['--councl', 'x', '-h'])).toBe('help');
    expect(parseCli(spec, ['--help'])).toBe('help');
  });

  it('names the first mistake in one line', () => {
    expect(mistake(['--councl', 'E09000001'])).toBe(
      'Unknown option --councl: did you mean --council? Run with --help to see the options.',
    );
    expect(mistake(['--zzz'])).toBe('Unknown option --zzz. Run with --help to see the options.');
    expect(mistake(['--council', '--dry-run'])).toMatch(
      /^--council needs a value: give it as --council CODE\./,
    );
    expect(mistake(['--council', 'A', '--dry-run=yes'])).toMatch(/^--dry-run takes no value/);
    expect(mistake(['--council', 'A', '--council', 'B'])).toMatch(/^--council was given more than once/);
    expect(mistake(['--council', 'A', 'B'])).toMatch(/^Unexpected argument "B"/);
    expect(mistake(['--dry-run'])).toBe('--council is required: a council, e.g. --council E09000001');
    for (const message of [mistake(['--councl', 'x']), mistake(['--council'])])
      expect(message).not.toContain('\n');
  });

  it('lists every flag, the required ones marked, in the help', () => {
    const help = helpText(spec);
    expect(help).toContain('Usage: npm run example -- --council CODE');
    expect(help).toMatch(/--council CODE\s+a council \(required\)/);
    expect(help).toMatch(/--tag TAG\s+a tag \(may be repeated\)/);
    expect(help).toMatch(/-h, --help\s+print this help and exit/);
  });
});
