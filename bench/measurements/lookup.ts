/**
 * Lookup throughput and latency through the local HTTP adapter, the authorizer, the middy stack and the
 * handler, against the same DynamoDB calls issued directly with the SDK, at concurrency 1, 16 and 64.
 *
 * Three workloads, one per path through the handler:
 * - notifying-found: B0107 on a child with a plan: Query + (BatchGet, Query of accesses) + PutItem (its
 *   access record: the audit event carrying the council message)
 * - silent-found: B0170 on a child with a plan: Query + (BatchGet, Query of accesses) + PutItem (audit)
 * - not-found: B0107 on a child with no plan (the common case in practice): Query + PutItem (audit)
 */

import { benchNhsNumber } from '../../testkit/nhs-numbers';
import { type Claims, longLivedToken } from '../../testkit/tokens';
import { clinicianClaims } from '../lib/callers';
import { type Comparison, type ComparisonSides, compare } from '../lib/compare';
import { ensureLookupPool } from '../lib/fixtures';
import { setupFetch } from '../lib/http';
import { httpLoad } from '../lib/load';
import { SEED_RANGES } from '../lib/nhs';
import type { BenchContext, Measurement } from '../lib/types';

export interface LookupWorkload {
  id: string;
  label: string;
  calls: string;
  claims: Claims;
  pool: { start: number; count: number };
  expectPlans: boolean;
}

export function lookupWorkloads(ctx: BenchContext): LookupWorkload[] {
  const pool = ctx.settings.lookupPool;
  return [
    {
      id: 'notifying-found',
      label: 'notifying lookup (B0107), child with a plan',
      calls: 'Query + (BatchGet, Query of accesses) + PutItem(access: the audit event carrying the message)',
      claims: clinicianClaims(['B0107']),
      pool: { start: SEED_RANGES.lookup, count: pool },
      expectPlans: true,
    },
    {
      id: 'silent-found',
      label: 'silent lookup (B0170), child with a plan',
      calls: 'Query + (BatchGet, Query of accesses) + PutItem(audit)',
      claims: clinicianClaims(['B0170']),
      pool: { start: SEED_RANGES.lookup, count: pool },
      expectPlans: true,
    },
    {
      id: 'not-found',
      label: 'notifying lookup (B0107), child with no plan',
      calls: 'Query + PutItem(audit)',
      claims: clinicianClaims(['B0107']),
      pool: { start: SEED_RANGES.absent, count: pool },
      expectPlans: false,
    },
  ];
}

/**
 * Service and baseline sides of one workload at one concurrency, against a given service; with
 * `floor`, also the diagnostic floor: the baseline's calls behind a bare HTTP server in the baseline's
 * process, loaded by autocannon as the service is.
 */
export async function lookupSides(
  ctx: BenchContext,
  workload: LookupWorkload,
  concurrency: number,
  target: { url: string; tableName: string } = { url: ctx.server.url, tableName: ctx.server.tableName },
  options: { floor?: boolean } = {},
): Promise<ComparisonSides> {
  const token = await longLivedToken(workload.claims);
  const pick = () => benchNhsNumber(workload.pool.start + Math.floor(Math.random() * workload.pool.count));
  const load = (url: string) => (seconds: number) =>
    httpLoad({
      url,
      concurrency,
      seconds,
      method: 'GET' as const,
      headers: { Authorization: `Bearer ${token}` },
      next: () => ({ path: `/v1/children/${pick()}` }),
    });
  const floorUrl = options.floor
    ? await ctx.direct.serveLookups({
        tableName: target.tableName,
        claims: workload.claims,
        expectPlans: workload.expectPlans,
      })
    : undefined;
  return {
    concurrency,
    baseline: (seconds: number) =>
      ctx.direct.run({
        op: 'lookup',
        tableName: target.tableName,
        pool: workload.pool,
        claims: workload.claims,
        expectPlans: workload.expectPlans,
        concurrency,
        seconds,
      }),
    service: load(target.url),
    ...(floorUrl ? { floor: load(floorUrl) } : {}),
  };
}

/** Checks one response through the service has the shape the workload expects. */
async function checkOne(ctx: BenchContext, workload: LookupWorkload): Promise<void> {
  const nhsNumber = benchNhsNumber(workload.pool.start);
  const response = await setupFetch(`${ctx.server.url}/v1/children/${nhsNumber}`, {
    headers: { Authorization: `Bearer ${await longLivedToken(workload.claims)}` },
  });
  const body = (await response.json()) as { plans?: unknown[] };
  if (response.status !== 200 || (body.plans?.length ?? 0) > 0 !== workload.expectPlans) {
    throw new Error(
      `${workload.id}: GET /v1/children/${nhsNumber} answered ${response.status} ${JSON.stringify(body)}`,
    );
  }
}

export function recordComparison(
  ctx: BenchContext,
  prefix: string,
  label: string,
  comparison: Comparison,
  details: Record<string, unknown>,
  targets: { throughput?: boolean; p99?: boolean } = { throughput: true, p99: true },
): void {
  const { baseline, service } = comparison;
  const common = {
    ...details,
    concurrency: comparison.concurrency,
    baseline,
    service,
    roundRatios: comparison.roundRatios,
    machine: comparison.machine,
  };
  ctx.record({
    id: `${prefix}.throughput`,
    label: `${label}: throughput`,
    unit: 'req/s',
    value: service.throughput,
    baseline: { label: 'direct SDK calls', value: baseline.throughput },
    ...(targets.throughput ? { target: { kind: 'ratio', op: '>=', limit: 0.8 } } : {}),
    details: common,
  });
  ctx.record({
    id: `${prefix}.p50`,
    label: `${label}: p50 latency`,
    unit: 'ms',
    value: service.latency.p50,
    baseline: { label: 'direct SDK calls', value: baseline.latency.p50 },
  });
  ctx.record({
    id: `${prefix}.p99`,
    label: `${label}: p99 latency`,
    unit: 'ms',
    value: service.latency.p99,
    baseline: { label: 'direct SDK calls', value: baseline.latency.p99 },
    ...(targets.p99 ? { target: { kind: 'ratio', op: '<=', limit: 1.5 } } : {}),
  });
  const { floor } = comparison;
  if (floor) {
    const bareHttp = 'the same calls behind a bare HTTP server';
    ctx.record({
      id: `${prefix}.floor.throughput`,
      label: `${label}: throughput of ${bareHttp} (diagnostic floor)`,
      unit: 'req/s',
      value: floor.throughput,
      baseline: { label: 'direct SDK calls', value: baseline.throughput },
      details: { concurrency: comparison.concurrency, floor },
    });
    ctx.record({
      id: `${prefix}.vs-floor.throughput`,
      label: `${label}: throughput vs ${bareHttp}`,
      unit: 'req/s',
      value: service.throughput,
      baseline: { label: bareHttp, value: floor.throughput },
      ...(targets.throughput ? { target: { kind: 'ratio', op: '>=', limit: 0.9 } } : {}),
      details: { concurrency: comparison.concurrency, roundRatios: floor.serviceRoundRatios },
    });
  }
}

export const lookupMeasurement: Measurement = {
  id: 'lookup',
  title: 'Lookup throughput and latency: service (HTTP, auth, middy, handler) vs direct SDK calls',
  async run(ctx) {
    await ensureLookupPool(ctx);
    const quick = ctx.settings.mode === 'quick';
    // The quick (smoke) mode runs the main workload only.
    for (const workload of lookupWorkloads(ctx).filter((w) => !quick || w.id === 'notifying-found')) {
      await checkOne(ctx, workload);
      const concurrencies = quick ? [1, 64] : [1, 16, 64];
      for (const concurrency of concurrencies) {
        ctx.log(`  ${workload.id}, concurrency ${concurrency}`);
        // The floor shows what HTTP alone costs: at c=1 every request's costs add up in its latency, and at
        // higher concurrency the HTTP exchange's CPU competes with the emulator's on this machine's cores.
        // The quick (smoke) mode runs it at c=1 only.
        const floor = !quick || concurrency === 1;
        const sides = await lookupSides(ctx, workload, concurrency, undefined, { floor });
        const comparison = await compare(ctx, sides);
        recordComparison(
          ctx,
          `lookup.${workload.id}.c${concurrency}`,
          `lookup ${workload.id}, c=${concurrency}`,
          comparison,
          {
            workload: workload.label,
            calls: workload.calls,
          },
        );
      }
    }
    ctx.note(
      'Lookup: both sides run in their own Node process against the same table and emulator: the baseline process ' +
        "issues the handler's DynamoDB calls with the same document client settings; the service side is autocannon " +
        '(in the runner) → HTTP adapter → authorizer (ES256 JWT) → middy → handler in the service process. The ' +
        'service process also runs the stream poller, which dispatches the council messages of both sides. Rounds ' +
        'alternate ABBA and the stream is drained between runs. At every concurrency (quick mode: c=1) a diagnostic floor runs between the two in ' +
        "every round: the baseline's calls behind a bare node:http server in the baseline's process, loaded by " +
        'autocannon like the service (no token check, routing, middy or handler logic; the answer is the items read, ' +
        'as JSON). It shows what one HTTP exchange costs on this machine, which the direct baseline does not pay.',
    );
  },
};
