/**
 * Plan publish throughput: PUT /v1/councils/{code}/plans/{nhs}/CPP creating a new plan each time, through
 * the service, against the same consistent BatchGet and guarded TransactWriteItems issued directly.
 */

import { benchNhsNumber } from '../../testkit/nhs-numbers';
import { longLivedToken } from '../../testkit/tokens';
import { councilClaims } from '../lib/callers';
import { compare } from '../lib/compare';
import { httpLoad } from '../lib/load';
import { SEED_RANGES } from '../lib/nhs';
import { registerCouncils } from '../lib/seed';
import type { Measurement } from '../lib/types';
import { recordComparison } from './lookup';

export const PUBLISH_COUNCIL = 'BENCHPUB';
/** Each direct job gets its own block of fresh NHS numbers. */
const DIRECT_BLOCK = 50_000;

export const publishMeasurement: Measurement = {
  id: 'publish',
  title: 'Plan publish throughput: service vs the same transaction issued directly',
  async run(ctx) {
    await registerCouncils(ctx.server.url, [PUBLISH_COUNCIL]);
    const claims = councilClaims(PUBLISH_COUNCIL);
    const token = await longLivedToken(claims);
    const startDate = '2025-01-01';
    const body = JSON.stringify({ startDate });
    let serviceSeed = SEED_RANGES.publishService;
    let directJob = 0;
    for (const concurrency of ctx.settings.mode === 'quick' ? [16] : [1, 16]) {
      ctx.log(`  publish, concurrency ${concurrency}`);
      const comparison = await compare(ctx, {
        concurrency,
        baseline: (seconds) =>
          ctx.direct.run({
            op: 'publish',
            tableName: ctx.server.tableName,
            councilCode: PUBLISH_COUNCIL,
            firstSeed: SEED_RANGES.publishDirect + DIRECT_BLOCK * directJob++,
            startDate,
            claims,
            concurrency,
            seconds,
          }),
        service: (seconds) =>
          httpLoad({
            url: ctx.server.url,
            concurrency,
            seconds,
            method: 'PUT',
            headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
            next: () => ({
              path: `/v1/councils/${PUBLISH_COUNCIL}/plans/${benchNhsNumber(serviceSeed++)}/CPP`,
              body,
            }),
          }),
      });
      recordComparison(
        ctx,
        `publish.c${concurrency}`,
        `publish (new plan), c=${concurrency}`,
        comparison,
        {
          calls:
            'BatchGet(4 keys, consistent) + TransactWriteItems(council check, plan, audit, 2 marker checks)',
        },
        { throughput: true, p99: false },
      );
    }
  },
};
