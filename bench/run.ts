/**
 * `npm run bench [-- --quick] [-- --only lookup,publish] [-- --profile]`
 *
 * Starts DynamoDB Local and fauxqs, the service in its own process (bench/server.ts) and the direct SDK
 * baseline worker in another (bench/direct.ts), runs every measurement of bench/measurements/index.ts,
 * and writes bench/results/<date>[-quick][-only][-N].json and .md. Every figure is compared with a baseline
 * measured in the same run. Exits 1 when a measurement could not run; a missed target is reported, not
 * an error (these machines are noisy; read the ratios).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { useLocalAws } from '../local/aws-env';
import { type Emulators, startEmulators } from '../local/emulators';
import { type IdentityProvider, localIssuers, startIdentityProvider } from '../local/identity-provider';
import { REPO_ROOT } from './lib/child';
import { type DirectWorker, startDirectWorker } from './lib/direct-worker';
import { evaluate, type RunReport, writeReport } from './lib/report';
import { type ServerHandle, type StartServerOptions, startServer } from './lib/server';
import type { BenchContext, BenchSettings, Mode, ResultRow } from './lib/types';
import { measurements } from './measurements/index';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'what-if': { type: 'string' },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    'scale-large': { type: 'string' },
    'upload-rows': { type: 'string' },
    out: { type: 'string' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  console.log(`npm run bench -- [--quick] [--only ${measurements.map((m) => m.id).join(',')}] [--profile]
  --quick           smoke mode, under a minute: short rounds, small data sets
  --only a,b        run only these measurements (results file gets their names)
  --profile         write V8 CPU profiles of the service and baseline processes (path printed at the end)
  --what-if a,b     also time what-if variants (cold-start: source-maps, keep-names, or both: a+b)
  --rounds N        measured rounds per comparison;  --seconds S  seconds per round
  --scale-large N   children in the large table of the scale measure
  --upload-rows N   rows in the upload measure's CSV file
  --out DIR         results directory (default bench/results);  --keep  keep the scratch directory`);
  process.exit(0);
}

const mode: Mode = args.quick ? 'quick' : 'full';
const number = (value: string | undefined, fallback: number) =>
  value === undefined ? fallback : Number(value);
const settings: BenchSettings =
  mode === 'quick'
    ? {
        mode,
        rounds: number(args.rounds, 1),
        roundSeconds: number(args.seconds, 0.5),
        // The untimed first request of every connection is warm-up enough for a smoke run.
        warmupSeconds: 0,
        lookupPool: 500,
        notifyLookups: 40,
        notifyRatePerSecond: 20,
        scaleSmall: 1_000,
        scaleLarge: number(args['scale-large'], 2_000),
        uploadRows: number(args['upload-rows'], 300),
        coldStartRepeats: 1,
      }
    : {
        mode,
        rounds: number(args.rounds, 3),
        roundSeconds: number(args.seconds, 4),
        warmupSeconds: 1.5,
        lookupPool: 10_000,
        notifyLookups: 1_000,
        notifyRatePerSecond: 15,
        scaleSmall: 10_000,
        scaleLarge: number(args['scale-large'], 1_000_000),
        uploadRows: number(args['upload-rows'], 100_000),
        coldStartRepeats: 15,
      };

const only = args.only
  ?.split(',')
  .map((id) => id.trim())
  .filter(Boolean);
const unknown = only?.filter((id) => !measurements.some((m) => m.id === id)) ?? [];
if (unknown.length) {
  console.error(
    `Unknown measurement(s): ${unknown.join(', ')}. Known: ${measurements.map((m) => m.id).join(', ')}`,
  );
  process.exit(2);
}
const selected = measurements.filter((m) => !only || only.includes(m.id));

function git(...argv: string[]): string {
  try {
    return execFileSync('git', argv, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function environment(): Record<string, unknown> {
  let java = 'java unknown';
  try {
    java = execFileSync('java', ['-version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (error) {
    java = String((error as { stderr?: string }).stderr ?? java);
  }
  const javaLine = /version "([^"]+)"/.exec(java)?.[1];
  return {
    platform: `${os.platform()} ${os.release()}`,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    java: javaLine ? `Java ${javaLine}` : 'Java unknown',
    gitCommit: git('rev-parse', '--short', 'HEAD'),
    gitDirty: git('status', '--porcelain').length > 0,
    loadAverageAtEnd: os.loadavg().map((value) => Math.round(value * 100) / 100),
  };
}

const log = (text: string) => console.log(text);

async function main(): Promise<number> {
  const startedAt = new Date();
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'cpis-bench-'));
  const profileDir = args.profile ? path.join(workDir, 'profiles') : undefined;
  if (profileDir) await mkdir(profileDir, { recursive: true });
  const rows: ResultRow[] = [];
  const notes: string[] = [];
  const errors: RunReport['errors'] = [];
  const extras: Record<string, unknown> = {};
  let servers: ServerHandle[] = [];
  let direct: DirectWorker | undefined;
  let emulators: Emulators | undefined;
  let ports: { dynamodb: number; sqs: number } | undefined;
  // One identity provider for the whole run: the services trust it, the callers' tokens come from it.
  let identity: IdentityProvider | undefined;
  const serverProcesses: Record<string, unknown> = {};

  log(`Benchmarks (${mode}): ${selected.map((m) => m.id).join(', ')}; scratch ${workDir}`);
  extras.loadAverageAtStart = os.loadavg().map((value) => Math.round(value * 100) / 100);
  /** Stops the emulators and every process started on them. */
  const stop = async (measurementId = 'run') => {
    const finals = await Promise.all(
      servers.map(async (server) => [`${measurementId}/${server.name}`, await server.close()] as const),
    );
    Object.assign(serverProcesses, Object.fromEntries(finals));
    extras.serverProcesses = serverProcesses;
    servers = [];
    await direct?.close().catch(() => undefined);
    direct = undefined;
    await emulators?.stop();
    emulators = undefined;
  };
  /** Writes the results so far; also on Ctrl-C or SIGTERM, marked as interrupted. */
  const writeResults = async (interrupted: boolean) => {
    const finishedAt = new Date();
    const day = startedAt.toISOString().slice(0, 10);
    const name = `${day}${mode === 'quick' ? '-quick' : ''}${only ? `-${only.join('+')}` : ''}${interrupted ? '-interrupted' : ''}`;
    const report: RunReport = {
      name,
      mode,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationSeconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000),
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      environment: environment(),
      settings: { ...settings },
      rows,
      notes: interrupted
        ? [...notes, 'The run was interrupted: only the measurements above completed.']
        : notes,
      errors,
      extras,
      titles: Object.fromEntries(selected.map((m) => [m.id, m.title])),
    };
    const outDir = args.out ? path.resolve(args.out) : path.join(REPO_ROOT, 'bench', 'results');
    const files = await writeReport(outDir, report);
    const withTarget = rows.filter((row) => row.target);
    log(`\nTargets met: ${withTarget.filter((row) => row.pass).length} of ${withTarget.length}`);
    for (const row of withTarget.filter((r) => !r.pass))
      log(`  missed: ${row.label} (${row.ratio ?? row.value})`);
    log(`Results: ${path.relative(process.cwd(), files.md)}, ${path.relative(process.cwd(), files.json)}`);
    if (profileDir)
      log(`CPU profiles: ${profileDir} (summarise with: npx tsx bench/profile-summary.ts ${profileDir})`);
  };
  const interrupt = () => {
    log('\nInterrupted: stopping and writing the results so far');
    void stop()
      .then(() => writeResults(true))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const start = async (options: Omit<StartServerOptions, 'workDir' | 'cpuProfileDir'>) => {
    const server = await startServer({ ...options, workDir, cpuProfileDir: profileDir });
    servers.push(server);
    return server;
  };
  /**
   * Fresh emulators (on the same ports, so clients made earlier still reach them), the main service and
   * the baseline worker: DynamoDB Local slows down as data and stream records pile up in it, so no
   * measure inherits another's.
   */
  const startEnvironment = async () => {
    emulators = await startEmulators({ ports });
    ports = {
      dynamodb: Number(new URL(emulators.dynamodbEndpoint).port),
      sqs: Number(new URL(emulators.sqsEndpoint).port),
    };
    useLocalAws({ dynamodb: emulators.dynamodbEndpoint, sqs: emulators.sqsEndpoint });
    identity ??= await startIdentityProvider({ audience: 'child-protection-sharing' });
    process.env.LOCAL_IDENTITY_ORIGIN = identity.origin;
    // For functions loaded straight from the catalogue (the cold-start probes), as the service sets it.
    process.env.JWT_ISSUERS = JSON.stringify(localIssuers(identity.origin));
    const [server, worker] = await Promise.all([
      start({ tableName: 'bench-main', queuePrefix: 'bench-main-', name: 'server-main' }),
      startDirectWorker({ workDir, cpuProfileDir: profileDir }),
    ]);
    direct = worker;
    return { server, direct: worker, emulators };
  };
  let previous = 'run';
  try {
    let environment: Awaited<ReturnType<typeof startEnvironment>> | undefined;
    for (const measurement of selected) {
      // The quick mode's data sets are too small to slow DynamoDB Local down: one environment serves all.
      if (!environment || (mode === 'full' && !measurement.reusesPreviousEnvironment)) {
        if (environment) await stop(previous);
        const t0 = performance.now();
        environment = await startEnvironment();
        log(
          `\n(emulators, service and baseline worker started in ${Math.round((performance.now() - t0) / 100) / 10} s)`,
        );
      }
      previous = measurement.id;
      const { server } = environment;
      const ctx: BenchContext = {
        settings,
        server,
        direct: environment.direct,
        endpoints: {
          dynamodb: environment.emulators.dynamodbEndpoint,
          sqs: environment.emulators.sqsEndpoint,
        },
        workDir,
        profileDir,
        whatIf: new Set(args['what-if']?.split(',').map((id) => id.trim()) ?? []),
        startServer: start,
        record: (row) => {
          const evaluated = evaluate({ ...row, measurement: measurement.id });
          rows.push(evaluated);
          const verdict = evaluated.pass === undefined ? '' : evaluated.pass ? '  pass' : '  FAIL';
          log(
            `    ${evaluated.label}: ${evaluated.value} ${evaluated.unit}${evaluated.baseline ? ` vs ${evaluated.baseline.value} → ${evaluated.ratio}x` : ''}${verdict}`,
          );
          return evaluated;
        },
        results: () => rows,
        note: (text) => notes.push(text),
        log,
      };
      const t0 = performance.now();
      log(`\n▶ ${measurement.id}: ${measurement.title}`);
      try {
        await measurement.run(ctx);
      } catch (error) {
        const message = String((error as Error)?.stack ?? error);
        errors.push({ measurement: measurement.id, message });
        console.error(`  ${measurement.id} failed: ${message}`);
      }
      log(`  (${Math.round((performance.now() - t0) / 1000)} s)`);
      for (const [part, stats] of [
        ['API', await server.stats().catch(() => undefined)],
        ['dispatch', await server.dispatchStats().catch(() => undefined)],
      ] as const) {
        if (stats?.runtimeErrors) {
          errors.push({
            measurement: measurement.id,
            message: `the service's ${part} process reported ${stats.runtimeErrors} runtime errors; last: ${stats.lastError}`,
          });
        }
      }
    }
  } finally {
    await stop(previous);
    await identity?.close();
  }

  await writeResults(false);
  if (!args.keep && !profileDir && errors.length === 0) await rm(workDir, { recursive: true, force: true });
  else log(`Scratch directory kept: ${workDir}`);
  return errors.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
