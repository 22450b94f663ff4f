/**
 * Seed ranges of the benchmark data sets. Seed n is the child benchNhsNumber(n) (testkit/nhs-numbers.ts),
 * so tables seeded with the same seeds hold the same children and both sides of a comparison draw from
 * the same pool.
 */

/** Seed ranges of the data sets, far enough apart never to overlap. */
export const SEED_RANGES = {
  /** Children looked up by the lookup measures (and the 10,000 side of the scale measure). */
  lookup: 0,
  /** Never seeded in the main table: lookups that find nothing. */
  absent: 1_000_000,
  /** Children each looked up once by the notification latency measure. */
  notify: 2_000_000,
  /** Fresh NHS numbers for publishes: service side, then direct side. */
  publishService: 2_500_000,
  /** The direct side takes a block of 50,000 per timed round. */
  publishDirect: 3_000_000,
  /** Cold-start probes. */
  cold: 4_000_000,
  /** The merge measure's two children and the 400 numbers merged into one of them. */
  merged: 4_100_000,
  /** The bulk upload measure's file (up to 500,000 rows). */
  spare: 4_500_000,
} as const;
