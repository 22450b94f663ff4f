/**
 * NHS numbers for benchmark data: valid Modulus 11 check digits, all in the 99x range, which is never
 * issued to people. Seed n always maps to the same number, so tables seeded with seeds 0..N-1 hold the
 * same children and both sides of a comparison draw from the same pool.
 */
import { nhsCheckDigit } from '../../functions/core/nhs-number';

const PER_PREFIX = 1_000_000;
const PREFIXES = 10;

/**
 * The n-th benchmark NHS number, from 0; up to 5 million. Seed n owns the two slots 2n and 2n + 1 of the
 * 99x range (prefixes 999 down to 990, a million slots each) and takes the first with a valid check
 * digit. One of the two always has one: the slots differ only in the last of the nine digits, by 1, which
 * moves the Modulus 11 remainder by 2, and only one remainder gives the invalid check digit 10. So a
 * number is computed directly, without listing every number before it.
 */
export function benchNhsNumber(n: number): string {
  if (!Number.isInteger(n) || n < 0 || 2 * n >= PREFIXES * PER_PREFIX)
    throw new Error(`no benchmark NHS number ${n}: seeds run from 0 to ${(PREFIXES * PER_PREFIX) / 2 - 1}`);
  for (const slot of [2 * n, 2 * n + 1]) {
    const prefix = 999 - Math.floor(slot / PER_PREFIX);
    const firstNine = `${prefix}${String(slot % PER_PREFIX).padStart(6, '0')}`;
    const check = nhsCheckDigit(firstNine);
    if (check !== undefined) return `${firstNine}${check}`;
  }
  throw new Error(`benchmark NHS number ${n}: neither slot has a valid check digit`);
}

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
  /** The bulk upload measure's file (up to 500,000 rows). */
  spare: 4_500_000,
} as const;
