/**
 * The quiet-logs test environment: a nested jest run over the fixtures in ./fixtures (one file that
 * passes while the service logs errors, one with a failing test, one that fails to load), once with
 * workers and once in band, and what it printed. Without the environment, the passing file's lines
 * would be printed and these tests fail.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isServiceRecord } from './quiet-logs-environment';

const ROOT = path.resolve(import.meta.dirname, '../..');

const config = {
  rootDir: ROOT,
  testEnvironment: '<rootDir>/test/setup/quiet-logs-environment.ts',
  testMatch: ['<rootDir>/test/setup/fixtures/*.fixture.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } },
    ],
  },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
};

interface Run {
  code: number | null;
  output: string;
}

/** Runs jest over the fixtures (a fresh cache, so no timings tempt jest to run in band by itself). */
function runFixtures(extra: string[]): Promise<Run> {
  const cache = mkdtempSync(path.join(tmpdir(), 'quiet-logs-'));
  const env: NodeJS.ProcessEnv = { ...process.env, POWERTOOLS_LOG_LEVEL: 'INFO' };
  delete env.TEST_LOGS;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        '--experimental-vm-modules',
        '--no-warnings',
        path.join(ROOT, 'node_modules/jest/bin/jest.js'),
        '--config',
        JSON.stringify(config),
        '--cacheDirectory',
        cache,
        '--ci',
        ...extra,
      ],
      { cwd: ROOT, env, maxBuffer: 10 * 1024 * 1024 },
      (error, stdout, stderr) => {
        rmSync(cache, { recursive: true, force: true });
        resolve({
          code: error ? ((error as { code?: number }).code ?? null) : 0,
          output: `${stdout}${stderr}`,
        });
      },
    );
  });
}

let runs: Record<'workers' | 'in band', Run>;

beforeAll(async () => {
  const [workers, inBand] = await Promise.all([
    runFixtures(['--maxWorkers=2']),
    runFixtures(['--runInBand']),
  ]);
  runs = { workers, 'in band': inBand };
}, 60_000);

describe.each(['workers', 'in band'] as const)('a nested jest run (%s)', (mode) => {
  it('ran the fixtures: the failing test and the broken file failed, the rest passed', () => {
    const { code, output } = runs[mode];
    expect(code).toBe(1);
    expect(output).toMatch(/Test Suites: 2 failed, 1 passed, 3 total/);
    expect(output).toMatch(/Tests: +1 failed, 3 passed, 4 total/);
  });

  it('prints nothing the service logged in a passing test, or outside tests in a file that passed', () => {
    const { output } = runs[mode];
    for (const quiet of [
      'FIXTURE-PASS-beforeAll',
      'FIXTURE-PASS-error',
      'FIXTURE-PASS-warn',
      'FIXTURE-PASS-console-error',
      'FixturePassMetric',
      'FIXTURE-FAIL-quiet',
    ])
      expect({ quiet, printed: output.includes(quiet) }).toEqual({ quiet, printed: false });
    // The test that read the logger's output itself saw it (it passed), and it went no further.
    expect(output).not.toContain('FIXTURE-PASS-captured');
  });

  it('prints what the service logged in a failing test, under its name, and the file-level lines of a failed file', () => {
    const { output } = runs[mode];
    expect(output).toContain(
      '── service output of the failed test "a block › fails loudly" in test/setup/fixtures/failing.fixture.ts',
    );
    expect(output).toMatch(/\{"level":"ERROR","message":"FIXTURE-FAIL-loud"/);
    expect(output).toContain('console.warn: FIXTURE-FAIL-console-warn');
    expect(output).toContain('── service output outside any test in test/setup/fixtures/failing.fixture.ts');
    expect(output).toMatch(/\{"level":"ERROR","message":"FIXTURE-FAIL-beforeAll"/);
    expect(output).toContain('── service output outside any test in test/setup/fixtures/broken.fixture.ts');
    expect(output).toMatch(/\{"level":"ERROR","message":"FIXTURE-BROKEN-module"/);
  });

  it('lets other output through', () => {
    expect(runs[mode].output).toContain('FIXTURE-PLAIN-output');
  });
});

describe('isServiceRecord', () => {
  it('knows a Powertools log record and a metrics record', () => {
    expect(isServiceRecord('{"level":"ERROR","message":"x","timestamp":"2026-01-01T00:00:00.000Z"}\n')).toBe(
      true,
    );
    expect(isServiceRecord('{\n  "level": "INFO",\n  "message": "x",\n  "timestamp": "t"\n}\n')).toBe(true);
    expect(isServiceRecord('{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]},"Count":1}\n')).toBe(true);
  });

  it('leaves everything else alone', () => {
    for (const other of [
      'PASS unit test/unit/ids.test.ts\n',
      '{"level":"ERROR"}\n',
      '{"level":"LOUD","message":"x","timestamp":"t"}\n',
      '{"created":3}\n',
      '{ not json }\n',
      'console.error: {"level":"ERROR","message":"x","timestamp":"t"}\n',
      Buffer.from('{"level":"ERROR","message":"x","timestamp":"t"}\n'),
    ])
      expect({ other, held: isServiceRecord(other) }).toEqual({ other, held: false });
  });
});
