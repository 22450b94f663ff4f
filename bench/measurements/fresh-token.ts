/**
 * The first request of a fresh CIS2 token: the service has not seen it, so its authorizer verifies the
 * signature (the issuer's keys already fetched) and calls the provider's UserInfo endpoint for the
 * clinician's roles, before the lookup runs. Against the next request with the same token, which the
 * adapter's authorizer cache (as API Gateway's) answers without either. One caller at a time, each
 * token a different clinician signed in through the local provider beforehand (untimed). Diagnostic.
 */
import { benchNhsNumber } from '../../testkit/nhs-numbers';
import { longLivedToken } from '../../testkit/tokens';
import { clinicianClaims } from '../lib/callers';
import { ensureLookupPool } from '../lib/fixtures';
import { SEED_RANGES } from '../lib/nhs';
import { summarize } from '../lib/stats';
import type { Measurement } from '../lib/types';

export const freshTokenMeasurement: Measurement = {
  id: 'fresh-token',
  title: 'First request of a fresh CIS2 token (signature + UserInfo) vs a token in the authorizer cache',
  async run(ctx) {
    await ensureLookupPool(ctx);
    const count = ctx.settings.mode === 'quick' ? 10 : 80;
    const t0 = performance.now();
    // Each a clinician of its own, so each token is new to the service.
    const tokens = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        longLivedToken({ ...clinicianClaims(['B0170']), sub: `bench-fresh-${i}` }),
      ),
    );
    ctx.log(
      `  ${count} clinicians signed in at the local provider in ${Math.round(performance.now() - t0)} ms`,
    );
    const lookup = async (token: string, n: number) => {
      const started = performance.now();
      const response = await fetch(`${ctx.server.url}/v1/children/${benchNhsNumber(n)}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      await response.arrayBuffer();
      const ms = performance.now() - started;
      if (response.status !== 200) throw new Error(`fresh-token: lookup answered ${response.status}`);
      return ms;
    };
    // The issuer's keys and the connection, fetched and opened before anything is timed.
    const warm = await longLivedToken(clinicianClaims(['B0170']));
    for (let i = 0; i < 3; i++) await lookup(warm, SEED_RANGES.lookup + i);
    const fresh: number[] = [];
    const cached: number[] = [];
    for (const [i, token] of tokens.entries()) {
      const n = SEED_RANGES.lookup + (i % ctx.settings.lookupPool);
      fresh.push(await lookup(token, n));
      cached.push(await lookup(token, n));
    }
    const [first, next] = [summarize(fresh), summarize(cached)];
    const baseline = 'the same token, next request (authorizer cache)';
    for (const p of ['p50', 'p95'] as const)
      ctx.record({
        id: `fresh-token.${p}`,
        label: `lookup with a fresh CIS2 token (signature + UserInfo), c=1: ${p} latency`,
        unit: 'ms',
        value: first[p],
        baseline: { label: baseline, value: next[p] },
        details: { tokens: count, fresh: first, cached: next },
      });
    ctx.note(
      'Fresh token: each of the tokens is a different clinician signed in beforehand; its first request (the ' +
        "authorizer verifies it and calls UserInfo at the local provider, which runs in the runner's process) is " +
        "timed, then a second request with the same token, answered from the adapter's authorizer cache. One " +
        'request at a time (silent B0170 lookups of children with a plan); the issuer keys are fetched before.',
    );
  },
};
