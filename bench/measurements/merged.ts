/**
 * A lookup of a child into whom 400 NHS numbers were merged, against a child with none, at
 * concurrency 1, rounds alternating. The merges go through the supersede route (role demographics),
 * after accesses were recorded under 30 of the old numbers, so the merged child's access history is
 * carried over ones (docs/adr/0028): the lookup reads one access range however many numbers were merged,
 * and the child's status item lists every number it replaces. The child with none holds the same plans
 * (the merged numbers' plans moved into the other) and as long an access history.
 */

import { publishPlan } from '../../testkit/councils';
import { benchNhsNumber } from '../../testkit/nhs-numbers';
import { seedPlans } from '../../testkit/seed';
import { longLivedToken } from '../../testkit/tokens';
import { clinicianClaims, councilClaims, demographicsClaims } from '../lib/callers';
import { compare } from '../lib/compare';
import { setupApi, setupFetch } from '../lib/http';
import { httpLoad } from '../lib/load';
import { SEED_RANGES } from '../lib/nhs';
import { registerCouncils } from '../lib/seed';
import type { BenchContext, Measurement } from '../lib/types';

const COUNCIL = 'BENCHMRG';
/** Full runs; the quick mode merges as many as were accessed (the same code paths, in its minute). */
const MERGES = 400;
const QUICK_MERGES = 30;
/** Old numbers with a plan, looked up (so accessed) before their merge, one clinician each. */
const ACCESSED = 30;

async function get(ctx: BenchContext, path: string, token: string) {
  const response = await setupFetch(`${ctx.server.url}${path}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  const body = (await response.json()) as { plans?: { planType: string }[]; previousAccesses?: unknown[] };
  if (response.status !== 200) throw new Error(`merged: GET ${path} answered ${response.status}`);
  return body;
}

export const mergedMeasurement: Measurement = {
  id: 'merged',
  title: 'Lookup of a child with 400 merged NHS numbers vs a child with none',
  async run(ctx) {
    const start = SEED_RANGES.merged;
    const [child, lone] = [benchNhsNumber(start), benchNhsNumber(start + 1)];
    const merges = ctx.settings.mode === 'quick' ? QUICK_MERGES : MERGES;
    const merged = Array.from({ length: merges }, (_, i) => benchNhsNumber(start + 2 + i));
    await registerCouncils(ctx.server.url, [COUNCIL]);
    // The two children and the accessed old numbers hold a plan each.
    await seedPlans(ctx.server.tableName, { start, count: 2 + ACCESSED, councils: [COUNCIL] });
    const t0 = performance.now();
    await Promise.all(
      merged
        .slice(0, ACCESSED)
        .map(async (nhsNumber, i) =>
          get(
            ctx,
            `/v1/children/${nhsNumber}`,
            await longLivedToken({ ...clinicianClaims(['B0107']), sub: `bench-merged-visit-${i}` }),
          ),
        ),
    );
    const demographics = await longLivedToken(demographicsClaims);
    for (const nhsNumber of merged) {
      const response = await setupFetch(
        `${ctx.server.url}/v1/nhs-numbers/${nhsNumber}/superseded-by/${child}`,
        { method: 'POST', headers: { Authorization: `Bearer ${demographics}` } },
      );
      if (response.status !== 200)
        throw new Error(`merged: supersession answered ${response.status} ${await response.text()}`);
    }
    ctx.log(
      `  ${merges} numbers merged (${ACCESSED} of them accessed first) in ${Math.round(performance.now() - t0)} ms`,
    );
    await ctx.server.drained();

    const token = await longLivedToken(clinicianClaims(['B0107']));
    // The merged child took the accessed numbers' plans (of up to three types): the child with none
    // gets the same types, so both answers hold the same plans and tell the same council.
    const council = { token: await longLivedToken(councilClaims(COUNCIL)) };
    const types = new Set(
      ((await get(ctx, `/v1/children/${child}`, token)).plans ?? []).map((p) => p.planType),
    );
    const loneTypes = new Set(
      ((await get(ctx, `/v1/children/${lone}`, token)).plans ?? []).map((p) => p.planType),
    );
    for (const planType of types) {
      if (loneTypes.has(planType)) continue;
      const published = await publishPlan(
        setupApi(ctx.server.url),
        COUNCIL,
        lone,
        planType,
        { startDate: '2025-01-01' },
        council,
      );
      if (published.status !== 201)
        throw new Error(`merged: publishing a plan answered ${published.status} ${published.text}`);
    }
    // The child with none gets an access history as long as the merged child's (the lookup reads 25).
    await Promise.all(Array.from({ length: 25 }, () => get(ctx, `/v1/children/${lone}`, token)));
    const [mergedView, loneView] = [
      await get(ctx, `/v1/children/${child}`, token),
      await get(ctx, `/v1/children/${lone}`, token),
    ];
    if (mergedView.plans?.length !== loneView.plans?.length)
      throw new Error(
        `merged: the children hold ${mergedView.plans?.length} and ${loneView.plans?.length} plans, not the same`,
      );
    if (mergedView.previousAccesses?.length !== 25 || loneView.previousAccesses?.length !== 25)
      throw new Error(
        `merged: expected 25 previous accesses each, got ${mergedView.previousAccesses?.length} and ${loneView.previousAccesses?.length}`,
      );
    await ctx.server.drained();
    const load = (nhsNumber: string) => (seconds: number) =>
      httpLoad({
        url: ctx.server.url,
        concurrency: 1,
        seconds,
        method: 'GET',
        headers: { Authorization: `Bearer ${token}` },
        next: () => ({ path: `/v1/children/${nhsNumber}` }),
      });
    const comparison = await compare(ctx, { concurrency: 1, baseline: load(lone), service: load(child) });
    const { baseline, service } = comparison;
    const label = `notifying lookup (B0107) of a child with ${merges} merged numbers, c=1`;
    const base = 'a child with none';
    ctx.record({
      id: 'merged.c1.p50',
      label: `${label}: p50 latency`,
      unit: 'ms',
      value: service.latency.p50,
      baseline: { label: base, value: baseline.latency.p50 },
      target: { kind: 'ratio', op: '<=', limit: 1.2 },
      details: {
        merges,
        accessedBeforeMerge: ACCESSED,
        plansEach: mergedView.plans?.length,
        baseline,
        service,
        roundRatios: comparison.roundRatios,
        machine: comparison.machine,
      },
    });
    ctx.record({
      id: 'merged.c1.p99',
      label: `${label}: p99 latency`,
      unit: 'ms',
      value: service.latency.p99,
      baseline: { label: base, value: baseline.latency.p99 },
    });
    ctx.record({
      id: 'merged.c1.throughput',
      label: `${label}: throughput`,
      unit: 'req/s',
      value: service.throughput,
      baseline: { label: base, value: baseline.throughput },
    });
  },
};
