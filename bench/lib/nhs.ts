/**
 * NHS numbers for benchmark data: valid Modulus 11 check digits, all in the 99x range, which is never
 * issued to people. Seed n always maps to the same number, so tables seeded with seeds 0..N-1 hold the
 * same children and both sides of a comparison draw from the same pool.
 */
import { nhsCheckDigit } from '../../functions/core/nhs-number';

const PER_PREFIX = 1_000_000;
const numbers: string[] = [];
let nextSlot = 0;

/** The n-th valid benchmark NHS number, from 0 (about 9 million exist: prefixes 999 down to 990). */
export function benchNhsNumber(n: number): string {
  while (numbers.length <= n) {
    const prefix = 999 - Math.floor(nextSlot / PER_PREFIX);
    if (prefix < 990) throw new Error(`no benchmark NHS number ${n}: the 99x range holds ${numbers.length}`);
    const firstNine = `${prefix}${String(nextSlot % PER_PREFIX).padStart(6, '0')}`;
    nextSlot++;
    const check = nhsCheckDigit(firstNine);
    if (check !== undefined) numbers.push(`${firstNine}${check}`);
  }
  return numbers[n] as string;
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
  publishService: 3_000_000,
  publishDirect: 4_000_000,
  /** Cold-start probes. */
  cold: 5_000_000,
  /** The bulk upload measure's file. */
  spare: 6_000_000,
} as const;
