/** NHS number rules: ten digits whose last is a Modulus 11 check digit over the first nine. */

const NHS_NUMBER_PATTERN = /^\d{10}$/;

/** The check digit for nine leading digits, or undefined when no valid number can end them (remainder 10). */
export function nhsCheckDigit(firstNine: string): number | undefined {
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(firstNine[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 11) return 0;
  if (check === 10) return undefined;
  return check;
}

export function isValidNhsNumber(value: string): boolean {
  if (!NHS_NUMBER_PATTERN.test(value)) return false;
  return nhsCheckDigit(value.slice(0, 9)) === Number(value[9]);
}
