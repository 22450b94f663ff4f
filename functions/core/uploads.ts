/**
 * Bulk upload rules, free of I/O: validating each record into a row result, spotting duplicate rows,
 * choosing which open plans a snapshot ends, and the file-level status.
 */
import { EARLIEST_DATE, isIsoDate, isServiceDate } from './dates';
import { isValidNhsNumber } from './nhs-number';
import { isPlanOpen, isPlanType, PLAN_TYPES, type PlanType } from './plans';

export const MAX_UPLOAD_RECORDS = 5000;
export const CSV_HEADER = ['nhsNumber', 'planType', 'startDate', 'endDate'] as const;
/** How a CSV upload is read (csv-parse options): by the service, and by the upload CLI checking a file. */
export const CSV_PARSE_OPTIONS = { bom: true, trim: true, skip_empty_lines: true, relax_column_count: true };
export const UPLOAD_MODES = ['delta', 'snapshot'] as const;
export type UploadMode = (typeof UPLOAD_MODES)[number];
/** A snapshot may end at most this share of the council's open plans unless forced. */
export const DEFAULT_SNAPSHOT_MAX_END_SHARE = 0.1;
/**
 * The most rows one plan transaction can hold: DynamoDB's 100 items, two a row (its plan and audit
 * event) when rows share their number's status check. The upload's default: as many as fit.
 */
export const MAX_ROWS_PER_TRANSACTION = 50;

export const ROW_CODES = [
  'INVALID_NHS_NUMBER',
  'INVALID_PLAN_TYPE',
  'INVALID_DATE',
  'END_BEFORE_START',
  'START_IN_FUTURE',
  'INVALID_RECORD',
  'DUPLICATE_ROW',
  'NHS_NUMBER_SUPERSEDED',
  'SENSITIVE_RECORD',
] as const;
export type RowCode = (typeof ROW_CODES)[number];
export const ROW_OUTCOMES = ['CREATED', 'UPDATED', 'UNCHANGED', 'REJECTED', 'ENDED'] as const;
export type RowOutcome = (typeof ROW_OUTCOMES)[number];

export interface UploadRecord {
  row: number;
  nhsNumber: string;
  planType: PlanType;
  startDate: string;
  endDate: string | null;
}

export interface RowResult {
  row: number | null;
  nhsNumber: string | null;
  planType: string | null;
  outcome: RowOutcome;
  code?: RowCode;
  message?: string;
}

const FIELDS = new Set<string>(CSV_HEADER);

export function rejected(
  row: number | null,
  fields: Record<string, unknown>,
  code: RowCode,
  message: string,
): RowResult {
  return {
    row,
    nhsNumber: typeof fields.nhsNumber === 'string' ? fields.nhsNumber : null,
    planType: typeof fields.planType === 'string' ? fields.planType : null,
    outcome: 'REJECTED',
    code,
    message,
  };
}

/** Checks one record's shape and values; `today` bounds the start date. */
export function validateRecord(row: number, fields: unknown, today: string): UploadRecord | RowResult {
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    return rejected(
      row,
      {},
      'INVALID_RECORD',
      'A record must be an object with nhsNumber, planType, startDate and endDate',
    );
  }
  const record = fields as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !FIELDS.has(key));
  if (unknown.length > 0)
    return rejected(
      row,
      record,
      'INVALID_RECORD',
      `Unknown field ${unknown.map((k) => `"${k}"`).join(', ')}`,
    );
  for (const field of ['nhsNumber', 'planType', 'startDate'] as const) {
    if (typeof record[field] !== 'string' || record[field] === '') {
      return rejected(row, record, 'INVALID_RECORD', `${field} is required`);
    }
  }
  const endDate =
    record.endDate === undefined || record.endDate === null || record.endDate === '' ? null : record.endDate;
  if (endDate !== null && typeof endDate !== 'string')
    return rejected(row, record, 'INVALID_RECORD', 'endDate must be a date or empty');
  const { nhsNumber, planType, startDate } = record as Record<'nhsNumber' | 'planType' | 'startDate', string>;

  if (!isValidNhsNumber(nhsNumber))
    return rejected(
      row,
      record,
      'INVALID_NHS_NUMBER',
      'nhsNumber must be 10 digits with a valid check digit',
    );
  if (!isPlanType(planType))
    return rejected(row, record, 'INVALID_PLAN_TYPE', `planType must be one of ${PLAN_TYPES.join(', ')}`);
  if (!isIsoDate(startDate))
    return rejected(row, record, 'INVALID_DATE', 'startDate must be a date (YYYY-MM-DD)');
  if (endDate !== null && !isIsoDate(endDate))
    return rejected(row, record, 'INVALID_DATE', 'endDate must be a date (YYYY-MM-DD)');
  for (const [field, value] of [
    ['startDate', startDate],
    ['endDate', endDate],
  ] as const) {
    if (value !== null && !isServiceDate(value))
      return rejected(row, record, 'INVALID_DATE', `${field} must be on or after ${EARLIEST_DATE}`);
  }
  if (endDate !== null && endDate < startDate)
    return rejected(row, record, 'END_BEFORE_START', 'endDate must not be before startDate');
  if (startDate > today)
    return rejected(row, record, 'START_IN_FUTURE', 'startDate must not be in the future');
  return { row, nhsNumber, planType, startDate, endDate };
}

export const planKey = (nhsNumber: string, planType: string) => `${nhsNumber}#${planType}`;

/** The NHS number and plan type a record names, as a plan key; undefined unless both are valid. */
export function namedPlanKey(record: Record<string, unknown> | null | undefined): string | undefined {
  return typeof record?.nhsNumber === 'string' &&
    isValidNhsNumber(record.nhsNumber) &&
    typeof record.planType === 'string' &&
    isPlanType(record.planType)
    ? planKey(record.nhsNumber, record.planType)
    : undefined;
}

export function duplicateRow(row: number, record: Record<string, unknown>): RowResult {
  return rejected(row, record, 'DUPLICATE_ROW', "Row repeats an earlier row's NHS number and plan type");
}

/**
 * Validates every record in file order. The first record naming an NHS number and plan type is
 * processed; later ones naming the same pair are DUPLICATE_ROW. `named` holds every pair the file
 * names (even on rejected rows), so a snapshot never ends a plan the file mentions.
 */
export function validateRecords(
  records: readonly unknown[],
  today: string,
  preRejected: ReadonlyMap<number, RowResult> = new Map(),
): { valid: UploadRecord[]; results: Map<number, RowResult>; named: Set<string> } {
  const valid: UploadRecord[] = [];
  const results = new Map<number, RowResult>();
  const named = new Set<string>();
  records.forEach((fields, index) => {
    const row = index + 1;
    const record = fields as Record<string, unknown> | null;
    const key = namedPlanKey(record);
    if (key && named.has(key)) {
      results.set(row, duplicateRow(row, record ?? {}));
      return;
    }
    if (key) named.add(key);
    const refused = preRejected.get(row);
    if (refused) {
      results.set(row, refused);
      return;
    }
    const checked = validateRecord(row, fields, today);
    if ('outcome' in checked) results.set(row, checked);
    else valid.push(checked);
  });
  return { valid, results, named };
}

export interface OpenPlan {
  nhsNumber: string;
  planType: PlanType;
  startDate: string;
  endDate: string | null;
}

/** The council's plans open today that the snapshot does not name. */
export function plansToEnd<T extends OpenPlan>(
  councilPlans: readonly T[],
  named: ReadonlySet<string>,
  today: string,
): T[] {
  return councilPlans.filter(
    (plan) => isPlanOpen(plan, today) && !named.has(planKey(plan.nhsNumber, plan.planType)),
  );
}

export function countOpen(councilPlans: readonly OpenPlan[], today: string): number {
  return councilPlans.filter((plan) => isPlanOpen(plan, today)).length;
}

export function breaksSnapshotGuard(toEnd: number, open: number, maxShare: number): boolean {
  return toEnd > 0 && toEnd > open * maxShare;
}

export type UploadStatus = 'ALL_ACCEPTED' | 'PARTIAL' | 'NONE_ACCEPTED';

export function uploadStatus(accepted: number, rejectedCount: number): UploadStatus {
  if (rejectedCount === 0) return 'ALL_ACCEPTED';
  return accepted === 0 ? 'NONE_ACCEPTED' : 'PARTIAL';
}
