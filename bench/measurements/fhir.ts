/**
 * FHIR `CareTeam` search throughput against the REST lookup it wraps, both through the service, same
 * callers, same children, same concurrency, rounds alternating: notifying (B0107, header
 * IsUnscheduledAccessEvent: true, against GET /v1/children/{n} with B0107) and silent (B0170,
 * IsUnscheduledAccessEvent: false, against the B0170 lookup). The difference is the FHIR layer alone:
 * reading the search, building the Bundle of CareTeams, the OperationOutcome wrapping.
 */
import { benchNhsNumber } from '../../testkit/nhs-numbers';
import { type Claims, longLivedToken } from '../../testkit/tokens';
import { clinicianClaims } from '../lib/callers';
import { compare } from '../lib/compare';
import { ensureLookupPool } from '../lib/fixtures';
import { setupFetch } from '../lib/http';
import { httpLoad } from '../lib/load';
import { SEED_RANGES } from '../lib/nhs';
import type { BenchContext, Measurement } from '../lib/types';

const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

/** The FHIR search of one child, as a clinical system sends it. */
export const careTeamPath = (nhsNumber: string) =>
  `/FHIR/R4/CareTeam?patient:identifier=${encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${nhsNumber}`)}`;

interface FhirWorkload {
  id: string;
  label: string;
  claims: Claims;
  unscheduled: 'true' | 'false';
}

const workloads: FhirWorkload[] = [
  {
    id: 'notifying',
    label: 'notifying (B0107; IsUnscheduledAccessEvent: true)',
    claims: clinicianClaims(['B0107']),
    unscheduled: 'true',
  },
  {
    id: 'silent',
    label: 'silent (B0170; IsUnscheduledAccessEvent: false)',
    claims: clinicianClaims(['B0170']),
    unscheduled: 'false',
  },
];

/** One search through the service: a Bundle holding the child's plan, or the measure stops. */
async function checkOne(ctx: BenchContext, workload: FhirWorkload, token: string): Promise<void> {
  const nhsNumber = benchNhsNumber(SEED_RANGES.lookup);
  const response = await setupFetch(`${ctx.server.url}${careTeamPath(nhsNumber)}`, {
    headers: { Authorization: `Bearer ${token}`, IsUnscheduledAccessEvent: workload.unscheduled },
  });
  const body = (await response.json()) as { resourceType?: string; total?: number };
  if (response.status !== 200 || body.resourceType !== 'Bundle' || !body.total)
    throw new Error(
      `fhir ${workload.id}: CareTeam search answered ${response.status} ${JSON.stringify(body)}`,
    );
}

export const fhirMeasurement: Measurement = {
  id: 'fhir',
  title: 'FHIR CareTeam search vs the REST lookup, both through the service',
  async run(ctx) {
    await ensureLookupPool(ctx);
    const quick = ctx.settings.mode === 'quick';
    const pool = ctx.settings.lookupPool;
    const pick = () => benchNhsNumber(SEED_RANGES.lookup + Math.floor(Math.random() * pool));
    // The quick (smoke) mode runs the notifying workload only, at c=1, whose timed window opens at once.
    for (const workload of workloads.filter((w) => !quick || w.id === 'notifying')) {
      const token = await longLivedToken(workload.claims);
      await checkOne(ctx, workload, token);
      for (const concurrency of quick ? [1] : [1, 16]) {
        ctx.log(`  ${workload.id}, concurrency ${concurrency}`);
        const load =
          (headers: Record<string, string>, path: (nhsNumber: string) => string) => (seconds: number) =>
            httpLoad({
              url: ctx.server.url,
              concurrency,
              seconds,
              method: 'GET',
              headers: { Authorization: `Bearer ${token}`, ...headers },
              next: () => ({ path: path(pick()) }),
            });
        const comparison = await compare(ctx, {
          concurrency,
          baseline: load({}, (nhsNumber) => `/v1/children/${nhsNumber}`),
          service: load({ IsUnscheduledAccessEvent: workload.unscheduled }, careTeamPath),
        });
        const { baseline, service } = comparison;
        const prefix = `fhir.${workload.id}.c${concurrency}`;
        const label = `FHIR CareTeam search ${workload.id}, c=${concurrency}`;
        const rest = `REST lookup, ${workload.id === 'notifying' ? 'B0107' : 'B0170'}`;
        ctx.record({
          id: `${prefix}.throughput`,
          label: `${label}: throughput`,
          unit: 'req/s',
          value: service.throughput,
          baseline: { label: rest, value: baseline.throughput },
          target: { kind: 'ratio', op: '>=', limit: 0.9 },
          details: {
            workload: workload.label,
            concurrency,
            // Both sides are HTTP loads of the service: its CPU per request is baseline.serverCpuMsPerOp
            // (REST) and service.cpuMsPerOp (FHIR).
            baseline,
            service,
            roundRatios: comparison.roundRatios,
            machine: comparison.machine,
          },
        });
        for (const p of ['p50', 'p99'] as const)
          ctx.record({
            id: `${prefix}.${p}`,
            label: `${label}: ${p} latency`,
            unit: 'ms',
            value: service.latency[p],
            baseline: { label: rest, value: baseline.latency[p] },
          });
      }
    }
    ctx.note(
      'FHIR: both sides are autocannon loads of the same service process with the same token and the same ' +
        'children, rounds alternating ABBA with the stream drained between runs; the REST side is the baseline. ' +
        "A side's service CPU per request is in the details (REST: baseline.serverCpuMsPerOp; FHIR: service.cpuMsPerOp).",
    );
  },
};
