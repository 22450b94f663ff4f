/**
 * NHS numbers for tests and benchmarks: valid Modulus 11 check digits (functions/core/nhs-number.ts),
 * all in the 99x range, which is never issued to people. A seed always maps to the same number.
 */
import { nhsCheckDigit } from '../functions/core/nhs-number';

/** Nine leading digits with their check digit, or undefined when none can end them (remainder 10). */
export function withCheckDigit(firstNine: string): string | undefined {
  const check = nhsCheckDigit(firstNine);
  return check === undefined ? undefined : `${firstNine}${check}`;
}

/**
 * The tests' NHS numbers: the first valid number from 999 followed by the seed in six digits, counting
 * up (so seeds next to each other can give the same number; tests space theirs apart).
 */
export function testNhsNumber(seed: number): string {
  for (let n = seed; ; n++) {
    const nhsNumber = withCheckDigit(`999${String(n).padStart(6, '0')}`);
    if (nhsNumber !== undefined) return nhsNumber;
  }
}

const PER_PREFIX = 1_000_000;
const PREFIXES = 10;

/**
 * The benchmarks' NHS numbers: the n-th, from 0; up to 5 million, each different. Seed n owns the two
 * slots 2n and 2n + 1 of the 99x range (prefixes 999 down to 990, a million slots each) and takes the
 * first with a valid check digit. One of the two always has one: the slots differ only in the last of
 * the nine digits, by 1, which moves the Modulus 11 remainder by 2, and only one remainder gives the
 * invalid check digit 10. So a number is computed directly, without listing every number before it,
 * and tables seeded with seeds 0..N-1 hold the same children whichever side of a comparison seeds them.
 */
export function benchNhsNumber(n: number): string {
  if (!Number.isInteger(n) || n < 0 || 2 * n >= PREFIXES * PER_PREFIX)
    throw new Error(`no benchmark NHS number ${n}: seeds run from 0 to ${(PREFIXES * PER_PREFIX) / 2 - 1}`);
  for (const slot of [2 * n, 2 * n + 1]) {
    const prefix = 999 - Math.floor(slot / PER_PREFIX);
    const nhsNumber = withCheckDigit(`${prefix}${String(slot % PER_PREFIX).padStart(6, '0')}`);
    if (nhsNumber !== undefined) return nhsNumber;
  }
  throw new Error(`benchmark NHS number ${n}: neither slot has a valid check digit`);
}
