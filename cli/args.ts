/**
 * Argument handling shared by every CLI, so that all of them answer --help, mistyped flags, missing
 * values and missing required flags the same way: usage on stdout with exit 0 for --help; one line
 * naming the flag, then the usage line, on stderr with exit 2 for a mistake.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

export interface Flag {
  type: 'string' | 'boolean';
  /** The value's placeholder in the usage text, e.g. CODE. */
  value?: string;
  multiple?: boolean;
  /** One line for --help. */
  help: string;
  /** Makes the flag required; what it is, with an example, for the message when it is missing. */
  required?: string;
}

export interface CliSpec<F extends Record<string, Flag>> {
  /** The command and its flags in one line, e.g. `npm run upload -- --council CODE --file FILE`. */
  usage: string;
  /** What the command does, for --help. */
  about: string;
  flags: F;
  examples: string[];
  /** Anything else --help should say, e.g. exit codes. */
  notes?: string;
}

type FlagValue<T extends Flag> = T['type'] extends 'boolean'
  ? boolean
  : T extends { multiple: true }
    ? string[]
    : T extends { required: string }
      ? string
      : string | undefined;

export type Values<F extends Record<string, Flag>> = { -readonly [K in keyof F]: FlagValue<F[K]> };

/** A mistake in how the command was run: printed as one line with the usage line, exit 2. */
export class UsageError extends Error {}

/** The council a tool acts for, required by every council tool. */
export const COUNCIL_FLAG = {
  type: 'string',
  value: 'CODE',
  help: "the council's ODS code",
  required: "the council's ODS code, e.g. --council E09000001",
} as const satisfies Flag;

const HELP_HINT = 'Run with --help to see the options.';

export function helpText(spec: CliSpec<Record<string, Flag>>): string {
  const rows: [string, string][] = [
    ...Object.entries(spec.flags).map(([name, flag]): [string, string] => [
      `--${name}${flag.type === 'string' ? ` ${flag.value ?? 'VALUE'}` : ''}`,
      `${flag.help}${flag.required ? ' (required)' : ''}${flag.multiple ? ' (may be repeated)' : ''}`,
    ]),
    ['-h, --help', 'print this help and exit'],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return [
    spec.about,
    '',
    `Usage: ${spec.usage}`,
    '',
    'Options:',
    ...rows.map(([name, help]) => `  ${name.padEnd(width)}  ${help}`),
    '',
    spec.examples.length > 1 ? 'Examples:' : 'Example:',
    ...spec.examples.map((example) => `  ${example}`),
    ...(spec.notes ? ['', spec.notes] : []),
    '',
  ].join('\n');
}

/** Edit distance counting a swap of neighbours as one edit, to suggest the flag a mistyped one meant. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] as number;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(
        at(i - 1, j) + 1,
        at(i, j - 1) + 1,
        at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

function unknownOption(rawName: string, known: string[]): string {
  const name = rawName.replace(/^-+/, '');
  const [nearest] = known
    .map((candidate) => ({ candidate, d: distance(name, candidate) }))
    .filter(({ d }) => d <= (name.length <= 3 ? 1 : 2))
    .sort((a, b) => a.d - b.d);
  return nearest
    ? `Unknown option ${rawName}: did you mean --${nearest.candidate}? ${HELP_HINT}`
    : `Unknown option ${rawName}. ${HELP_HINT}`;
}

/**
 * The first mistake in the arguments, as one line naming it. Read from parseArgs's tokens (parsed
 * leniently), because its strict errors are several lines and name no fix.
 */
function firstMistake(spec: CliSpec<Record<string, Flag>>, args: string[]): string | undefined {
  const { tokens } = parseArgs({
    args,
    options: parseOptions(spec),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind === 'positional') {
      return (
        `Unexpected argument ${JSON.stringify(token.value)}: this command takes only flags ` +
        `(through npm, put -- before them). ${HELP_HINT}`
      );
    }
    if (token.kind !== 'option' || token.name === 'help') continue;
    const flag = spec.flags[token.name];
    if (!flag) return unknownOption(token.rawName, Object.keys(spec.flags));
    const example = flag.value ?? 'VALUE';
    if (flag.type === 'boolean' && token.value !== undefined) {
      return `--${token.name} takes no value: give it as --${token.name} alone. ${HELP_HINT}`;
    }
    if (
      flag.type === 'string' &&
      (token.value === undefined || (!token.inlineValue && token.value.startsWith('-')))
    ) {
      return `--${token.name} needs a value: give it as --${token.name} ${example}. ${HELP_HINT}`;
    }
    if (seen.has(token.name) && !flag.multiple) {
      return `--${token.name} was given more than once: give it once. ${HELP_HINT}`;
    }
    seen.add(token.name);
  }
  for (const [name, flag] of Object.entries(spec.flags)) {
    if (flag.required && !seen.has(name)) return `--${name} is required: ${flag.required}`;
  }
  return undefined;
}

function parseOptions(spec: CliSpec<Record<string, Flag>>): NonNullable<ParseArgsConfig['options']> {
  return {
    ...Object.fromEntries(
      Object.entries(spec.flags).map(([name, flag]) => [
        name,
        { type: flag.type, multiple: flag.multiple === true },
      ]),
    ),
    help: { type: 'boolean', short: 'h' },
  };
}

/**
 * The flags' values, or 'help' when --help (or -h) was given anywhere. Throws UsageError naming the
 * first mistake: an unknown flag, a missing value, a repeated flag, a missing required flag or a
 * positional argument.
 */
export function parseCli<const F extends Record<string, Flag>>(
  spec: CliSpec<F>,
  args: string[] = process.argv.slice(2),
): Values<F> | 'help' {
  if (args.some((arg, i) => (arg === '--help' || arg === '-h') && !args.slice(0, i).includes('--')))
    return 'help';
  const mistake = firstMistake(spec, args);
  if (mistake) throw new UsageError(mistake);
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args, options: parseOptions(spec), strict: true }));
  } catch (error) {
    // Anything the lenient pass let through: Node's own first line still names the argument.
    throw new UsageError(`${(error as Error).message.split('\n')[0]}. ${HELP_HINT}`);
  }
  return Object.fromEntries(
    Object.entries(spec.flags).map(([name, flag]) => [
      name,
      flag.type === 'boolean' ? values[name] === true : flag.multiple ? (values[name] ?? []) : values[name],
    ]),
  ) as Values<F>;
}

export interface RunOptions {
  /** The line printed for an error other than a UsageError; its message by default. */
  describeFailure?: (error: Error) => string;
  /**
   * Exit as soon as main settles rather than when the event loop empties: fetch's keep-alive
   * connections would otherwise hold the process open for a few seconds.
   */
  exitWhenDone?: boolean;
}

/**
 * Parses the arguments and runs main with them: --help prints the help (exit 0); a UsageError, from
 * the arguments or thrown by main, prints its line and the usage line (exit 2); any other error prints
 * describeFailure's line (exit 2). main's answer is the exit code (0 when it answers nothing).
 */
export function runCli<const F extends Record<string, Flag>>(
  spec: CliSpec<F>,
  main: (values: Values<F>) => Promise<number | undefined>,
  options: RunOptions = {},
): void {
  const usageError = (error: UsageError) => {
    process.stderr.write(`${error.message}\nUsage: ${spec.usage}\n`);
    process.exitCode = 2;
  };
  let values: Values<F> | 'help';
  try {
    values = parseCli(spec);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    usageError(error);
    return;
  }
  if (values === 'help') {
    process.stdout.write(helpText(spec));
    return;
  }
  main(values).then(
    (code = 0) => {
      if (options.exitWhenDone) process.exit(code);
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof UsageError) {
        usageError(error);
        process.exit(2);
      }
      const failure = error instanceof Error ? error : new Error(String(error));
      process.stderr.write(`${options.describeFailure?.(failure) ?? failure.message}\n`);
      process.exit(2);
    },
  );
}
