import { isValidNhsNumber } from '../../functions/core/nhs-number';

export type NhsNumberCheck = { ok: true; nhsNumber: string } | { ok: false; message: string };

/** Reads an NHS number as people type it (spaces or dashes between groups) and checks it. */
export function readNhsNumber(input: string): NhsNumberCheck {
  const trimmed = input.trim();
  if (trimmed === '') return { ok: false, message: 'Enter an NHS number' };
  const digits = trimmed.replace(/[\s-]/g, '');
  if (!/^\d+$/.test(digits)) return { ok: false, message: 'NHS number must only include numbers and spaces' };
  if (digits.length !== 10) return { ok: false, message: 'NHS number must be 10 digits' };
  if (!isValidNhsNumber(digits))
    return {
      ok: false,
      message: 'Enter a valid NHS number: this one is mistyped (its last digit does not match)',
    };
  return { ok: true, nhsNumber: digits };
}

/** 9990000018 → 999 000 0018, as NHS numbers are written. */
export const formatNhsNumber = (n: string) => `${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`;
