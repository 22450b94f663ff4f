/** Reading a FHIR search request: its one search parameter and the IsUnscheduledAccessEvent header. */
import { isValidNhsNumber } from '../core/nhs-number';
import { NHS_NUMBER_SYSTEM, SEARCH_PARAMETER } from './capability-statement';
import { FhirError } from './outcome';

const HOW = `search with ${SEARCH_PARAMETER}=${NHS_NUMBER_SYSTEM}|{NHS number}`;

/** The NHS number a search asks about: `patient:identifier` given once, in the NHS number system. */
export function searchedNhsNumber(query: Record<string, readonly string[]>): string {
  for (const name of Object.keys(query)) {
    if (name !== SEARCH_PARAMETER)
      throw new FhirError('INVALID_SEARCH_DATA', `Unknown search parameter "${name}": ${HOW}`);
  }
  const values = query[SEARCH_PARAMETER] ?? [];
  if (values.length === 0) throw new FhirError('INVALID_SEARCH_DATA', `Missing search parameter: ${HOW}`);
  if (values.length > 1)
    throw new FhirError('INVALID_SEARCH_DATA', `${SEARCH_PARAMETER} must be given once: ${HOW}`);
  const value = values[0] as string;
  const bar = value.indexOf('|');
  if (bar < 0 || value.slice(0, bar) !== NHS_NUMBER_SYSTEM)
    throw new FhirError('INVALID_SEARCH_DATA', `The identifier system must be ${NHS_NUMBER_SYSTEM}: ${HOW}`);
  const nhsNumber = value.slice(bar + 1);
  if (!isValidNhsNumber(nhsNumber))
    throw new FhirError('INVALID_SEARCH_DATA', 'The NHS number must be 10 digits with a valid check digit');
  return nhsNumber;
}

/** The NHS number a request names, if it names a valid one (the subject its refusal is audited under). */
export function namedNhsNumber(query: Record<string, readonly string[]>): string | undefined {
  const value = query[SEARCH_PARAMETER]?.[0];
  const candidate = value?.slice(value.indexOf('|') + 1);
  return candidate !== undefined && isValidNhsNumber(candidate) ? candidate : undefined;
}

export const UNSCHEDULED_HEADER = 'IsUnscheduledAccessEvent';

/** True (absent, or `true`) for an unscheduled-care access; false (`false`) for a silent read. */
export function isUnscheduledAccess(value: string | undefined): boolean {
  // Exactly `true` or `false`, as the contract spells them (HTTP has already trimmed the value).
  if (value === undefined || value === 'true') return true;
  if (value === 'false') return false;
  throw new FhirError('PRECONDITION_FAILED', `The ${UNSCHEDULED_HEADER} header must be true or false`);
}
