/**
 * `npm run reliability:report`: renders docs/reliability.md from a test run, never by hand.
 *
 * Inputs, all under .local/reliability/ (git-ignored):
 * - <profile>/<file>.<name>.json: counters each reliability test writes when it passes (inputs tried,
 *   faults injected, outcomes). The profile is `default` for `npm test` and `runs-N` for FUZZ_RUNS=N
 *   (`npm run test:deep` is runs-10000).
 * - jest-<profile>.json (optional): jest's --json results of the same run, for pass/fail and timings:
 *     npm test -- --json --outputFile=.local/reliability/jest-default.json
 *     npm run test:deep -- --json --outputFile=.local/reliability/jest-runs-10000.json
 *
 * A guarantee whose test did not pass in the latest run has no record, and the report says so.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIR = path.join(ROOT, '.local', 'reliability');
const OUT = path.join(ROOT, 'docs', 'reliability.md');

interface RecordFile {
  guarantee: string;
  test: string;
  inputs: number;
  faultsInjected: number;
  outcomes: Record<string, number>;
  notes?: string[];
  file: string;
  profile: string;
  recordedAt: string;
}

interface JestResults {
  success: boolean;
  startTime: number;
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  testResults: {
    name: string;
    status: string;
    startTime: number;
    endTime: number;
    assertionResults: {
      fullName: string;
      status: string;
      duration?: number | null;
      failureMessages: string[];
    }[];
  }[];
}

/** The guarantees of issue 6, in order, and the records that prove each (file.name). */
const GUARANTEES: { title: string; claim: string; records: string[]; deepOnly?: boolean }[] = [
  {
    title: 'No lost notifications',
    claim:
      'With SQS stopped and restarted, or sends failing, or dispatch crashing mid-batch, every access reaches its council queue once per eventId; failed deliveries retry with backoff and go to the failure queue only after the configured attempts; `npm run redrive` re-delivers them.',
    records: [
      'lost-notifications.sqs-restart',
      'lost-notifications.partial-batch',
      'lost-notifications.crash',
      'lost-notifications.long-outage',
      'lost-notifications.council-dlq',
    ],
  },
  {
    title: 'No partial state',
    claim:
      'Injected throttling and transaction conflicts are retried; a failed transaction leaves no access without its audit event; concurrent PUTs of one plan end in one consistent state with a matching audit trail.',
    records: [
      'no-partial-state.retried',
      'no-partial-state.failed-transaction',
      'no-partial-state.lost-answer',
      'no-partial-state.concurrent-puts',
    ],
  },
  {
    title: 'Fuzzing',
    claim:
      'Generated requests across every route, bulk upload rows and audit events carrying council messages reaching dispatch: never a 5xx, never a stack trace, every rejected request leaves the table unchanged, malformed messages dropped and logged.',
    records: ['fuzz.api', 'fuzz.upload', 'fuzz.dispatch'],
  },
  {
    title: 'Authorization matrix',
    claim:
      'Every route × role × own/other organisation × permission code answers the exact status of the contract; every token attack answers 401.',
    records: ['access-control.authorization-matrix', 'access-control.token-attacks'],
  },
  {
    title: 'Enumeration defence',
    claim:
      'Lookups are rate-limited per user and per organisation with the deployed stack’s defaults; a burst sees 429s that write nothing.',
    records: ['access-control.rate-limit-user', 'access-control.rate-limit-organisation'],
  },
  {
    title: 'Privacy allow-list',
    claim:
      'After a scenario over every route, every table item holds only allow-listed attributes and no child’s name or birth date; the logs hold no NHS number, name or token.',
    records: ['privacy.scenario'],
  },
];

const number = (n: number) => n.toLocaleString('en-GB');
const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function profiles(): string[] {
  if (!existsSync(DIR)) return [];
  return readdirSync(DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => (a === 'default' ? -1 : b === 'default' ? 1 : a.localeCompare(b)));
}

function records(profile: string): Map<string, RecordFile> {
  const dir = path.join(DIR, profile);
  const found = new Map<string, RecordFile>();
  for (const name of readdirSync(dir).filter((entry) => entry.endsWith('.json'))) {
    const record = readJson<RecordFile>(path.join(dir, name));
    if (record) found.set(name.replace(/\.json$/, ''), record);
  }
  return found;
}

function commit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${sha} (with uncommitted changes)` : sha;
  } catch {
    return 'unknown';
  }
}

/** The failure's message without colours, stack frames or code frames, on one line. */
function failureSummary(message: string): string {
  const plain = message.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
  const kept = plain
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^(at |>?\s*\d+ \||\|)/.test(line) && !line.startsWith('Hint:'));
  // Tokens in counterexamples (local development ones, short-lived) are not worth keeping in a document.
  const text = kept
    .join(' ')
    .replace(/\s+/g, ' ')
    .replace(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, '<token>');
  const clip = (value: string, length: number) =>
    value.length > length ? `${value.slice(0, length)}…` : value;
  // fast-check: the cause first, then the (often long) counterexample.
  const cause = /(?:\[cause\]|Cause): (.*)$/.exec(text)?.[1];
  const example = /(Counterexample: .*?) Shrunk/.exec(text)?.[1];
  if (cause) return `${clip(cause, 300)}${example ? ` (${clip(example, 300)})` : ''}`;
  return clip(text, 500);
}

const isReliabilityFile = (name: string) => /test\/(integration\/reliability|unit\/faults)\//.test(name);

function runSummary(profile: string, jest: JestResults | undefined, stale: number): string[] {
  if (!jest) {
    return [
      `No jest results for \`${profile}\` (.local/reliability/jest-${profile}.json): pass/fail and timings not shown.`,
      '',
    ];
  }
  const end = Math.max(...jest.testResults.map((result) => result.endTime));
  const ours = jest.testResults.filter((result) => isReliabilityFile(result.name));
  const ourSeconds = ours.reduce((sum, result) => sum + (result.endTime - result.startTime), 0) / 1000;
  const ourTests = ours.flatMap((result) => result.assertionResults);
  const lines = [
    `| | |`,
    `|---|---|`,
    `| run started | ${new Date(jest.startTime).toISOString()} |`,
    `| whole run | ${number(jest.numTotalTests)} tests: ${number(jest.numPassedTests)} passed, ${number(jest.numFailedTests)} failed, ${number(jest.numPendingTests)} skipped; ${Math.round((end - jest.startTime) / 1000)} s |`,
    `| reliability tests (test/integration/reliability, test/unit/faults) | ${ourTests.length} tests in ${ours.length} files: ${ourTests.filter((t) => t.status === 'passed').length} passed, ${ourTests.filter((t) => t.status === 'failed').length} failed; ${Math.round(ourSeconds)} s of test-file time |`,
  ];
  if (stale > 0) lines.push(`| records older than this run (ignored) | ${stale} |`);
  lines.push('');
  const failed = ourTests.filter((test) => test.status === 'failed');
  if (failed.length > 0) {
    lines.push('Failing reliability tests in this run:', '');
    for (const test of failed) {
      lines.push(`- ${cell(test.fullName)}: ${cell(failureSummary(test.failureMessages[0] ?? ''))}`);
    }
    lines.push('');
  }
  lines.push('<details><summary>Reliability tests and their durations</summary>', '');
  lines.push('| test | status | ms |', '|---|---|---:|');
  for (const result of ours) {
    for (const test of result.assertionResults) {
      lines.push(`| ${cell(test.fullName)} | ${test.status} | ${test.duration ?? ''} |`);
    }
  }
  lines.push('', '</details>', '');
  return lines;
}

function render(): string {
  const lines: string[] = [
    '# Reliability',
    '',
    '<!-- Generated by `npm run reliability:report` (scripts/reliability-report.ts) from a test run. Do not edit by hand. -->',
    '',
    'What the reliability tests tried, what they injected and what came out, from the last runs of',
    '`npm test` (profile `default`) and `npm run test:deep` (profile `runs-10000`: the fuzz tests with',
    '10,000 runs per property). Every number below was counted by a test that passed; a guarantee whose',
    'test failed has no record and is marked so. The tests are in `test/integration/reliability/` and',
    '`test/unit/faults/`.',
    '',
    'Regenerate:',
    '',
    '```bash',
    'npm test -- --json --outputFile=.local/reliability/jest-default.json',
    'npm run test:deep -- --json --outputFile=.local/reliability/jest-runs-10000.json',
    'npm run reliability:report',
    '```',
    '',
    `Generated ${new Date().toISOString()} at commit ${commit()}.`,
    '',
    '## How notifications survive failures (what the tests hold the local runtime to)',
    '',
    '- A notifying lookup that finds plans writes one item: its audit event, which is the access record and',
    '  carries one message per council; the table stream hands such audit events to the dispatch function,',
    '  which sends every message and reports partial batch failures.',
    '- The local stream poller (local/stream-poller.ts) behaves as the deployed event source mapping: it',
    '  reads on at once while batches come back full and otherwise waits 50 ms between passes; a',
    '  failed batch is retried from its first failed record after a pause that doubles (100 ms to 5 s); a',
    '  record that failed 1 + `maxRetryAttempts` times (10, as deployed) goes to the on-failure queue',
    "  `<prefix>dispatch-failures` (Lambda's on-failure record plus the item's sort key: no personal",
    '  data). If that queue cannot be reached either, the records wait on the stream: nothing is dropped.',
    '- `npm run redrive` reads that queue, finds each audit event in the table and hands it to the',
    '  real dispatch function, deleting the message only once delivered (same eventId: a consumer that',
    "  de-duplicates by eventId sees one access). `npm run redrive -- --council CODE` moves a council's",
    '  dead-lettered messages (5 failed receives) back to its queue.',
    '',
  ];
  const all = profiles();
  if (all.length === 0) {
    lines.push('No records found in .local/reliability/: run the tests first.', '');
    return lines.join('\n');
  }

  const byProfile = new Map(all.map((profile) => [profile, records(profile)]));
  const jestByProfile = new Map(
    all.map((profile) => [profile, readJson<JestResults>(path.join(DIR, `jest-${profile}.json`))]),
  );

  // Records older than their run's start are leftovers of an earlier run: not evidence of this one.
  const current = (profile: string, key: string): RecordFile | undefined => {
    const record = byProfile.get(profile)?.get(key);
    const jest = jestByProfile.get(profile);
    if (!record || (jest && Date.parse(record.recordedAt) < jest.startTime)) return undefined;
    return record;
  };

  lines.push('## Summary', '');
  lines.push(
    '| guarantee | run | tests recorded | inputs tried | faults injected |',
    '|---|---|---:|---:|---:|',
  );
  for (const guarantee of GUARANTEES) {
    for (const profile of all) {
      const deep = profile !== 'default';
      const expected = deep ? guarantee.records.filter((key) => key.startsWith('fuzz.')) : guarantee.records;
      if (expected.length === 0) continue;
      const found = expected.map((key) => current(profile, key)).filter((r): r is RecordFile => !!r);
      const inputs = found.reduce((sum, r) => sum + r.inputs, 0);
      const faults = found.reduce((sum, r) => sum + r.faultsInjected, 0);
      const status =
        found.length === expected.length
          ? `${found.length} of ${expected.length}`
          : `**${found.length} of ${expected.length}**`;
      lines.push(`| ${guarantee.title} | ${profile} | ${status} | ${number(inputs)} | ${number(faults)} |`);
    }
  }
  lines.push('');

  for (const profile of all) {
    const stale = [...(byProfile.get(profile)?.keys() ?? [])].filter((key) => !current(profile, key)).length;
    lines.push(`## Run \`${profile}\``, '', ...runSummary(profile, jestByProfile.get(profile), stale));
  }

  for (const guarantee of GUARANTEES) {
    lines.push(`## ${guarantee.title}`, '', guarantee.claim, '');
    for (const profile of all) {
      const keys =
        profile === 'default'
          ? guarantee.records
          : guarantee.records.filter((key) => key.startsWith('fuzz.'));
      for (const key of keys) {
        const record = current(profile, key);
        if (!record) {
          lines.push(
            `### \`${key}\` (${profile})`,
            '',
            `**Not recorded**: the test did not pass, or did not run, in the last \`${profile}\` run.`,
            '',
          );
          continue;
        }
        lines.push(`### ${record.test} (${profile})`, '');
        lines.push(
          `\`${record.file}\` · recorded ${record.recordedAt} · ${number(record.inputs)} inputs · ${number(record.faultsInjected)} faults injected`,
          '',
        );
        lines.push('| outcome | count |', '|---|---:|');
        for (const [outcome, n] of Object.entries(record.outcomes))
          lines.push(`| ${cell(outcome)} | ${number(n)} |`);
        lines.push('');
        for (const note of record.notes ?? []) lines.push(`> ${note}`, '');
      }
    }
  }
  return lines.join('\n');
}

writeFileSync(OUT, `${render().trimEnd()}\n`);
console.log(`Wrote ${path.relative(ROOT, OUT)}`);
