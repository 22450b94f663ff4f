/**
 * Lookup latency against a large table versus a small one: two tables seeded with the same kind of
 * children (one open plan each, spread over 20 councils, 4 in the quick mode), each served by its own
 * service process, with rounds alternating between them. The same lookups issued directly with the
 * SDK on both tables show how much of any difference is the emulator's own.
 */

import { benchNhsNumber } from '../../testkit/nhs-numbers';
import { seedPlans } from '../../testkit/seed';
import { longLivedToken } from '../../testkit/tokens';
import { clinicianClaims } from '../lib/callers';
import { httpLoad, type LoadSample } from '../lib/load';
import { measureMachine } from '../lib/machine';
import { SEED_RANGES } from '../lib/nhs';
import { dropTables, registerCouncils, withStreamOff } from '../lib/seed';
import type { ServerHandle } from '../lib/server';
import { round, summarize } from '../lib/stats';
import type { BenchContext, Measurement } from '../lib/types';

/** The councils the children's plans are spread over (fewer in the quick mode: each is an API call). */
const councils = (ctx: BenchContext) =>
  Array.from(
    { length: ctx.settings.mode === 'quick' ? 4 : 20 },
    (_, i) => `SCALE${String(i + 1).padStart(3, '0')}`,
  );

interface Side {
  name: string;
  children: number;
  server: ServerHandle;
}

/**
 * A service on a new table, its councils registered through the API, then its children written with
 * BatchWriteItem while the table's stream is off (see withStreamOff: the service then dispatches
 * nothing, on either table). Seeding with the stream on while the service's poller reads along is far
 * slower for a million children (about 600 items/s instead of 3,000 and more).
 */
async function startSide(ctx: BenchContext, name: string, children: number): Promise<Side> {
  const t0 = performance.now();
  const server = await ctx.startServer({
    tableName: `bench-scale-${name}`,
    queuePrefix: `bench-${name}-`,
    name: `server-scale-${name}`,
  });
  const t1 = performance.now();
  await registerCouncils(server.url, councils(ctx));
  await server.drained();
  ctx.log(
    `  ${name}: service started in ${Math.round(t1 - t0)} ms, councils registered in ${Math.round(performance.now() - t1)} ms`,
  );
  return { name, children, server };
}

async function seedSide(ctx: BenchContext, side: Side): Promise<void> {
  const tableName = side.server.tableName;
  ctx.log(`  seeding ${tableName}: ${side.children.toLocaleString('en-GB')} children`);
  const t0 = performance.now();
  let rate = 0;
  await withStreamOff(tableName, async () => {
    rate = await seedPlans(
      tableName,
      { start: SEED_RANGES.lookup, count: side.children, councils: councils(ctx) },
      { parallel: 8, log: ctx.log },
    );
  });
  ctx.log(`    ${Math.round(rate)} items/s, ${Math.round((performance.now() - t0) / 1000)} s`);
}

export const scaleMeasurement: Measurement = {
  id: 'scale',
  title: 'Lookup latency with a large table vs a small one',
  async run(ctx) {
    const { scaleSmall, scaleLarge, rounds, roundSeconds, warmupSeconds } = ctx.settings;
    const [small, large] = await Promise.all([
      startSide(ctx, 'small', scaleSmall),
      startSide(ctx, 'large', scaleLarge),
    ]);
    // One at a time: seeding both at once would only share the same two cores.
    await seedSide(ctx, small);
    await seedSide(ctx, large);
    const claims = clinicianClaims(['B0107']);
    const token = await longLivedToken(claims);

    for (const concurrency of ctx.settings.mode === 'quick' ? [1] : [1, 16]) {
      ctx.log(`  concurrency ${concurrency}`);
      const service = (side: Side) => (seconds: number) =>
        httpLoad({
          url: side.server.url,
          concurrency,
          seconds,
          method: 'GET',
          headers: { Authorization: `Bearer ${token}` },
          next: () => ({
            path: `/v1/children/${benchNhsNumber(SEED_RANGES.lookup + Math.floor(Math.random() * side.children))}`,
          }),
        });
      const direct = (side: Side) => (seconds: number) =>
        ctx.direct.run({
          op: 'lookup',
          tableName: side.server.tableName,
          pool: { start: SEED_RANGES.lookup, count: side.children },
          claims,
          expectPlans: true,
          concurrency,
          seconds,
        });
      const runs: { key: string; side: Side; run: (seconds: number) => Promise<LoadSample> }[] = [
        { key: 'service-small', side: small, run: service(small) },
        { key: 'service-large', side: large, run: service(large) },
        { key: 'direct-small', side: small, run: direct(small) },
        { key: 'direct-large', side: large, run: direct(large) },
      ];
      const samples = new Map<string, LoadSample[]>(runs.map((run) => [run.key, []]));
      if (warmupSeconds > 0) {
        for (const run of runs) {
          await run.run(warmupSeconds);
          await run.side.server.drained();
        }
      }
      const machine = measureMachine();
      for (let r = 0; r < rounds; r++) {
        for (const run of r % 2 === 0 ? runs : [...runs].reverse()) {
          const sample = await run.run(roundSeconds);
          if (sample.errors > 0)
            throw new Error(`${run.key}: ${sample.errors} errors; first: ${sample.firstError}`);
          samples.get(run.key)?.push(sample);
          await run.side.server.drained();
        }
      }
      const load = machine();
      const pooled = (key: string) => {
        const list = samples.get(key) ?? [];
        const count = list.reduce((sum, s) => sum + s.count, 0);
        const seconds = list.reduce((sum, s) => sum + s.elapsedMs, 0) / 1000;
        return { ...summarize(list.flatMap((s) => s.latencies)), throughput: round(count / seconds, 1) };
      };
      const result = Object.fromEntries(runs.map((run) => [run.key, pooled(run.key)]));
      const sizes = `${(scaleLarge / 1000).toLocaleString('en-GB')}k vs ${(scaleSmall / 1000).toLocaleString('en-GB')}k children`;
      const details = {
        concurrency,
        children: { small: scaleSmall, large: scaleLarge },
        ...result,
        machine: load,
      };
      for (const stat of ['p50', 'p99'] as const) {
        ctx.record({
          id: `scale.c${concurrency}.${stat}`,
          label: `lookup ${stat} through the service, ${sizes}, c=${concurrency}`,
          unit: 'ms',
          value: result['service-large']?.[stat] as number,
          baseline: {
            label: `${(scaleSmall / 1000).toLocaleString('en-GB')}k table`,
            value: result['service-small']?.[stat] as number,
          },
          target: { kind: 'ratio', op: '<=', limit: 1.2 },
          ...(stat === 'p50' ? { details } : {}),
        });
        ctx.record({
          id: `scale.c${concurrency}.direct.${stat}`,
          label: `same lookups as direct SDK calls (emulator alone), ${stat}, c=${concurrency}`,
          unit: 'ms',
          value: result['direct-large']?.[stat] as number,
          baseline: {
            label: `${(scaleSmall / 1000).toLocaleString('en-GB')}k table`,
            value: result['direct-small']?.[stat] as number,
          },
        });
      }
    }
    await small.server.close();
    await large.server.close();
    // A million items left in DynamoDB Local slow every later measure down (all of it, both sides).
    await dropTables(['bench-scale-small', 'bench-scale-large']);
    ctx.note(
      'Scale: each table is created by its own service process (startLocalService) and its councils registered ' +
        'through the API; its children are then written with BatchWriteItem with the stream switched off, so neither ' +
        'scale service dispatches notifications: the comparison is of the lookup path. Lookups are notifying lookups ' +
        'of random children of the table, so every one finds a plan.',
    );
  },
};
