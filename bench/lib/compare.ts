/**
 * A baseline-versus-service comparison at one concurrency: an untimed warm-up of each side, then
 * `rounds` measured rounds in which the two sides alternate (ABBA order, so drift in the machine's speed
 * falls on both), with the stream drained between runs so one run's dispatch work never spills into the
 * next. Samples of all rounds are pooled. A diagnostic floor side, when given, runs between the two in
 * every round (ACB, BCA).
 */
import type { LoadSample } from './load';
import { type MachineLoad, measureMachine } from './machine';
import type { ServerStats } from './server-protocol';
import { type LatencySummary, round, summarize } from './stats';
import type { BenchContext } from './types';

export interface SideResult {
  throughput: number;
  latency: LatencySummary;
  count: number;
  elapsedMs: number;
  /** CPU milliseconds per operation in the process doing the work (worker, or service). */
  cpuMsPerOp: number;
  /**
   * Worker sides: the service's API process CPU per operation meanwhile (idle: their writes are
   * dispatched by the dispatch process). Every side: the dispatch process's CPU per operation
   * (dispatching the council messages of its lookups), which runs beside both sides, as deployed.
   */
  serverCpuMsPerOp?: number;
  dispatchCpuMsPerOp: number;
  /** Load generator (this process) CPU per request, HTTP sides only. */
  loadGeneratorCpuMsPerOp?: number;
  /** Service side only: the service process's longest event-loop stall and GC pause in any round. */
  serviceEventLoopMaxDelayMs?: number;
  serviceGcMaxPauseMs?: number;
  /** The longest event-loop stall of the process measuring this side's latencies, in any round. */
  measuringLoopMaxDelayMs?: number;
  /** The slowest operations of each round (start time after its timed window opened, latency). */
  slowestByRound?: { startedAtMs: number; latencyMs: number }[][];
}

export interface Comparison {
  concurrency: number;
  baseline: SideResult;
  service: SideResult;
  /** Throughput ratio (service / baseline) of each round, to show the noise. */
  roundRatios: number[];
  /** The diagnostic floor, when the sides had one: the baseline's work behind a bare HTTP server. */
  floor?: SideResult & {
    /** Throughput ratio (service / floor) of each round. */
    serviceRoundRatios: number[];
  };
  /** CPU use of the whole machine over the measured rounds (other work on it is noise). */
  machine?: MachineLoad;
}

export interface ComparisonSides {
  concurrency: number;
  baseline: (seconds: number) => Promise<LoadSample>;
  service: (seconds: number) => Promise<LoadSample>;
  /**
   * A diagnostic third side, run between the other two in every round: the baseline's work in the
   * worker process behind a bare HTTP server, loaded the way the service is.
   */
  floor?: (seconds: number) => Promise<LoadSample>;
}

interface Accumulator {
  samples: LoadSample[];
  ownCpuMs: number;
  serverCpuMs: number;
  dispatchCpuMs: number;
  loadCpuMs: number;
  eventLoopMaxDelayMs: number;
  gcMaxPauseMs: number;
}

const cpu = (stats: ServerStats) => stats.cpuUserMs + stats.cpuSystemMs;

/** Failed operations are an error; too few completions only make poor (or failing) figures. */
function check(sample: LoadSample, side: string): void {
  if (sample.errors > 0)
    throw new Error(`${side}: ${sample.errors} failed operations; first: ${sample.firstError}`);
}

function side(acc: Accumulator, own: 'worker' | 'worker-http' | 'server'): SideResult {
  const count = acc.samples.reduce((sum, s) => sum + s.count, 0);
  const elapsedMs = acc.samples.reduce((sum, s) => sum + s.elapsedMs, 0);
  return {
    throughput: round(count / (elapsedMs / 1000), 1),
    latency: summarize(acc.samples.flatMap((s) => s.latencies)),
    count,
    elapsedMs: round(elapsedMs, 0),
    cpuMsPerOp: round(acc.ownCpuMs / Math.max(1, count)),
    dispatchCpuMsPerOp: round(acc.dispatchCpuMs / Math.max(1, count)),
    measuringLoopMaxDelayMs: round(Math.max(0, ...acc.samples.map((s) => s.loopMaxDelayMs ?? 0)), 1),
    slowestByRound: acc.samples.map((s) => s.slowest ?? []),
    ...(own !== 'server' ? { serverCpuMsPerOp: round(acc.serverCpuMs / Math.max(1, count)) } : {}),
    ...(own !== 'worker' ? { loadGeneratorCpuMsPerOp: round(acc.loadCpuMs / Math.max(1, count)) } : {}),
    ...(own === 'server'
      ? {
          serviceEventLoopMaxDelayMs: round(acc.eventLoopMaxDelayMs, 1),
          serviceGcMaxPauseMs: round(acc.gcMaxPauseMs, 1),
        }
      : {}),
  };
}

export async function compare(ctx: BenchContext, sides: ComparisonSides): Promise<Comparison> {
  const { rounds, roundSeconds, warmupSeconds } = ctx.settings;
  if (warmupSeconds > 0) {
    check(await sides.baseline(warmupSeconds), 'baseline warm-up');
    await ctx.server.drained();
    check(await sides.service(warmupSeconds), 'service warm-up');
    await ctx.server.drained();
    if (sides.floor) {
      check(await sides.floor(warmupSeconds), 'floor warm-up');
      await ctx.server.drained();
    }
  }
  const empty = (): Accumulator => ({
    samples: [],
    ownCpuMs: 0,
    serverCpuMs: 0,
    dispatchCpuMs: 0,
    loadCpuMs: 0,
    eventLoopMaxDelayMs: 0,
    gcMaxPauseMs: 0,
  });
  const baseline = empty();
  const service = empty();
  const floor = empty();
  const roundRatios: number[] = [];
  const serviceFloorRatios: number[] = [];
  const machine = measureMachine();
  /** A side whose work is done in the worker process (the baseline, and the floor behind HTTP). */
  const runInWorker = async (
    acc: Accumulator,
    run: (seconds: number) => Promise<LoadSample>,
    name: string,
  ) => {
    const [workerBefore, serverBefore, dispatchBefore] = [
      await ctx.direct.cpuMs(),
      await ctx.server.stats(),
      await ctx.server.dispatchStats(),
    ];
    const loadBefore = process.cpuUsage();
    const sample = await run(roundSeconds);
    const load = process.cpuUsage(loadBefore);
    const workerAfter = await ctx.direct.cpuMs();
    await ctx.server.drained();
    const [serverAfter, dispatchAfter] = [await ctx.server.stats(), await ctx.server.dispatchStats()];
    check(sample, name);
    acc.samples.push(sample);
    acc.ownCpuMs += workerAfter - workerBefore;
    acc.serverCpuMs += cpu(serverAfter) - cpu(serverBefore);
    acc.dispatchCpuMs += cpu(dispatchAfter) - cpu(dispatchBefore);
    acc.loadCpuMs += (load.user + load.system) / 1000;
    return sample;
  };
  const runBaseline = () => runInWorker(baseline, sides.baseline, 'baseline');
  const runService = async () => {
    const [serverBefore, dispatchBefore] = [await ctx.server.stats(), await ctx.server.dispatchStats()];
    const loadBefore = process.cpuUsage();
    const sample = await sides.service(roundSeconds);
    const load = process.cpuUsage(loadBefore);
    // Read before draining, so that the figures are the round's own.
    const serverAtEnd = await ctx.server.stats();
    service.eventLoopMaxDelayMs = Math.max(service.eventLoopMaxDelayMs, serverAtEnd.eventLoopMaxDelayMs);
    service.gcMaxPauseMs = Math.max(service.gcMaxPauseMs, serverAtEnd.gcMaxPauseMs);
    await ctx.server.drained();
    const [serverAfter, dispatchAfter] = [await ctx.server.stats(), await ctx.server.dispatchStats()];
    check(sample, 'service');
    service.samples.push(sample);
    service.ownCpuMs += cpu(serverAfter) - cpu(serverBefore);
    service.dispatchCpuMs += cpu(dispatchAfter) - cpu(dispatchBefore);
    service.loadCpuMs += (load.user + load.system) / 1000;
    return sample;
  };
  const throughputRatio = (of: LoadSample, to: LoadSample) =>
    to.count > 0 ? round(of.count / of.elapsedMs / (to.count / to.elapsedMs)) : Number.NaN;
  for (let r = 0; r < rounds; r++) {
    const [first, second] = r % 2 === 0 ? [runBaseline, runService] : [runService, runBaseline];
    const a = await first();
    const f = sides.floor ? await runInWorker(floor, sides.floor, 'floor') : undefined;
    const b = await second();
    const [b0, s0] = r % 2 === 0 ? [a, b] : [b, a];
    roundRatios.push(throughputRatio(s0, b0));
    if (f) serviceFloorRatios.push(throughputRatio(s0, f));
  }
  return {
    concurrency: sides.concurrency,
    baseline: side(baseline, 'worker'),
    service: side(service, 'server'),
    roundRatios,
    ...(sides.floor
      ? { floor: { ...side(floor, 'worker-http'), serviceRoundRatios: serviceFloorRatios } }
      : {}),
    machine: machine(),
  };
}
