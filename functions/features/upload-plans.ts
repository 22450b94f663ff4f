/**
 * Bulk upload: a council's plans with a result per record. Delta mode writes what the file says;
 * snapshot mode also ends the council's open plans the file does not name, refusing (unless forced)
 * when that would end more than the allowed share of them.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { clock } from '../core/clock';
import { todayUtc } from '../core/dates';
import { invalidInput, PlanWriteConflict, RuleViolation, WriteConflict } from '../core/errors';
import { isValidNhsNumber } from '../core/nhs-number';
import { classifyPlanChange, isPlanOpen, isPlanType, type PlanType } from '../core/plans';
import { UploadJsonBodySchema, type UploadResponse } from '../core/schemas';
import {
  breaksSnapshotGuard,
  CSV_HEADER,
  CSV_PARSE_OPTIONS,
  countOpen,
  MAX_ROWS_PER_TRANSACTION,
  MAX_UPLOAD_RECORDS,
  planKey,
  plansToEnd,
  type RowResult,
  rejected,
  type UploadMode,
  type UploadRecord,
  uploadStatus,
  validateRecords,
} from '../core/uploads';
import type { AuditEntry, NhsNumberMarkers, PlanWrite, Store, StoredPlan } from '../store';
import { newId } from '../store/ids';
import type { Actor } from './actor';

/** Rounds of writes an upload makes when plans change under it, before it answers a conflict. */
const MAX_WRITE_ROUNDS = 3;

export interface ParsedUpload {
  mode?: UploadMode;
  records: unknown[];
  /** Rows refused while parsing (a CSV row with the wrong number of cells). */
  preRejected: Map<number, RowResult>;
}

/** Thrown by parseJsonUpload for a body whose JSON does not have the upload's shape (schema issues). */
export class UploadShapeError extends Error {
  constructor(readonly issues: unknown[]) {
    super('The upload body does not have the expected shape');
    this.name = 'UploadShapeError';
  }
}

export function parseJsonUpload(body: unknown): ParsedUpload {
  const parsed = UploadJsonBodySchema.safeParse(body);
  if (!parsed.success) throw new UploadShapeError(parsed.error.issues);
  return { mode: parsed.data.mode, records: parsed.data.records, preRejected: new Map() };
}

export function parseCsvUpload(text: string): ParsedUpload {
  let rows: string[][];
  try {
    rows = parseCsv(text, CSV_PARSE_OPTIONS);
  } catch (error) {
    throw invalidInput(`The CSV file cannot be read: ${(error as Error).message.split('\n')[0]}`);
  }
  const [header, ...body] = rows;
  if (!header || header.join(',') !== CSV_HEADER.join(',')) {
    throw invalidInput(`The first row must be exactly ${CSV_HEADER.join(',')}`);
  }
  const preRejected = new Map<number, RowResult>();
  const records = body.map((cells, index) => {
    const fields = Object.fromEntries(CSV_HEADER.map((name, i) => [name, cells[i] ?? '']));
    if (cells.length !== CSV_HEADER.length) {
      preRejected.set(
        index + 1,
        rejected(
          index + 1,
          fields,
          'INVALID_RECORD',
          `The row has ${cells.length} cells; expected ${CSV_HEADER.length}`,
        ),
      );
    }
    return fields;
  });
  return { records, preRejected };
}

export interface UploadRequest {
  councilCode: string;
  upload: ParsedUpload;
  /** The mode given in the query, if any. */
  mode?: UploadMode;
  force?: boolean;
  dryRun?: boolean;
  actor: Actor;
}

export interface UploadSettings {
  /** Plan transactions kept in flight. */
  writeConcurrency: number;
  /**
   * Rows written per transaction, each as its plan and audit event (up to DynamoDB's 100 items); 1
   * writes every row in its own transaction. Default: as many as fit (MAX_ROWS_PER_TRANSACTION).
   */
  rowsPerTransaction?: number;
  /** Largest share of a council's open plans a snapshot may end without force. */
  snapshotMaxEndShare: number;
}

/** What a write is for, so that it can be decided again if the plan changes before it lands. */
type WriteIntent = { record: UploadRecord } | { end: StoredPlan };
interface PendingWrite {
  intent: WriteIntent;
  write: PlanWrite;
}

/** Decides each row against the table and writes the changes; the per-row results. */
class UploadRun {
  readonly results: Map<number, RowResult>;
  ended: StoredPlan[] = [];
  private readonly today: string;
  private readonly at: string;

  constructor(
    private readonly store: Store,
    private readonly request: UploadRequest,
    now: Date,
    results: Map<number, RowResult>,
  ) {
    this.today = todayUtc(now);
    this.at = now.toISOString();
    this.results = results;
  }

  private audit(nhsNumber: string, planType: PlanType, action: AuditEntry['action']): AuditEntry {
    const { actor, councilCode } = this.request;
    return { subject: nhsNumber, action, outcome: 'SUCCESS', actor, at: this.at, planType, councilCode };
  }

  /** A row's outcome against the plan and markers read, and the write it needs, if any. */
  decideRow(
    record: UploadRecord,
    marker: NhsNumberMarkers | undefined,
    current?: StoredPlan,
  ): PendingWrite | undefined {
    const base = { row: record.row, nhsNumber: record.nhsNumber, planType: record.planType };
    if (marker?.supersededBy) {
      this.results.set(record.row, {
        ...base,
        outcome: 'REJECTED',
        code: 'NHS_NUMBER_SUPERSEDED',
        message: `This NHS number has been superseded by ${marker.supersededBy}: send the plan against ${marker.supersededBy}`,
      });
      return undefined;
    }
    const change = classifyPlanChange(current, record);
    if (change === 'UNCHANGED') {
      this.results.set(record.row, { ...base, outcome: 'UNCHANGED' });
      return undefined;
    }
    if (!current && marker?.sensitive) {
      this.results.set(record.row, {
        ...base,
        outcome: 'REJECTED',
        code: 'SENSITIVE_RECORD',
        message:
          'The demographics service marks this NHS number as sensitive: plans cannot be published for it',
      });
      return undefined;
    }
    this.results.set(record.row, { ...base, outcome: change === 'PLAN_CREATED' ? 'CREATED' : 'UPDATED' });
    return {
      intent: { record },
      write: {
        plan: {
          ...base,
          councilCode: this.request.councilCode,
          startDate: record.startDate,
          endDate: record.endDate,
          version: (current?.version ?? 0) + 1,
        },
        expectedVersion: current?.version,
        audit: this.audit(record.nhsNumber, record.planType, change),
      },
    };
  }

  endWrite(plan: StoredPlan): PendingWrite {
    return {
      intent: { end: plan },
      write: {
        plan: { ...plan, endDate: this.today, version: plan.version + 1 },
        expectedVersion: plan.version,
        audit: this.audit(plan.nhsNumber, plan.planType, 'PLAN_ENDED'),
      },
    };
  }

  /**
   * The writes that did not land, those whose conditions were refused: read again and decided afresh
   * (UNCHANGED, rejected for a number superseded or flagged meanwhile, or written on the new version).
   */
  async redecide(pending: readonly PendingWrite[], conflict: PlanWriteConflict): Promise<PendingWrite[]> {
    const landed = new Set(conflict.applied);
    const left = pending.filter((_, index) => !landed.has(index)).map((entry) => entry.intent);
    const keys = left.map((intent) => ('record' in intent ? intent.record : intent.end));
    const [markers, fresh] = await Promise.all([
      this.store.statuses.readMarkers(keys.map((key) => key.nhsNumber)),
      this.store.plans.readCouncilPlans(this.request.councilCode, keys),
    ]);
    const next: PendingWrite[] = [];
    for (const intent of left) {
      if ('record' in intent) {
        const { record } = intent;
        const decided = this.decideRow(
          record,
          markers.get(record.nhsNumber),
          fresh.get(planKey(record.nhsNumber, record.planType)),
        );
        if (decided) next.push(decided);
        continue;
      }
      // A plan to end that was deleted or ended meanwhile needs nothing more, and is not reported.
      const key = planKey(intent.end.nhsNumber, intent.end.planType);
      const current = fresh.get(key);
      if (current && isPlanOpen(current, this.today)) next.push(this.endWrite(current));
      else this.ended = this.ended.filter((plan) => planKey(plan.nhsNumber, plan.planType) !== key);
    }
    return next;
  }
}

/** Row codes that answer from a number's state: probing them is audited. */
const STATE_CODES: ReadonlySet<string> = new Set(['NHS_NUMBER_SUPERSEDED', 'SENSITIVE_RECORD']);

/**
 * The audit events an upload's rows leave under the NHS numbers they name: a dry run checks every row
 * (UPLOAD_CHECKED); a real one audits the rows refused for their number's state (PLAN_REFUSED). What
 * else a real upload writes is audited with each write.
 */
function rowAudits(rows: readonly RowResult[], request: UploadRequest, at: string): AuditEntry[] {
  const { actor, councilCode } = request;
  return rows.flatMap((row): AuditEntry[] => {
    if (row.nhsNumber === null || !isValidNhsNumber(row.nhsNumber)) return [];
    if (!request.dryRun && !(row.code && STATE_CODES.has(row.code))) return [];
    return [
      {
        subject: row.nhsNumber,
        action: request.dryRun ? 'UPLOAD_CHECKED' : 'PLAN_REFUSED',
        outcome: request.dryRun ? 'CHECKED' : 'DENIED',
        actor,
        at,
        ...(row.planType && isPlanType(row.planType) ? { planType: row.planType } : {}),
        councilCode,
      },
    ];
  });
}

/** Applies an upload (or, with dryRun, only decides it): the response with a result per record. */
export async function uploadPlans(
  store: Store,
  request: UploadRequest,
  settings: UploadSettings,
): Promise<UploadResponse> {
  const { councilCode, upload } = request;
  if (upload.mode && request.mode && upload.mode !== request.mode) {
    throw invalidInput(
      `mode is ${request.mode} in the query but ${upload.mode} in the body: send one, or the same in both`,
    );
  }
  const mode = upload.mode ?? request.mode;
  if (!mode) throw invalidInput('mode is required: delta or snapshot (in the query, or in a JSON body)');
  if (upload.records.length > MAX_UPLOAD_RECORDS) {
    throw new RuleViolation(
      'TOO_MANY_RECORDS',
      `An upload holds at most ${MAX_UPLOAD_RECORDS} records; this one has ${upload.records.length}. Split the file (the upload CLI does this for you)`,
    );
  }
  if (!(await store.councils.get(councilCode))) {
    throw new WriteConflict('COUNCIL_NOT_REGISTERED', undefined, councilCode);
  }

  const now = clock.now();
  const today = todayUtc(now);
  const { valid, results, named } = validateRecords(upload.records, today, upload.preRejected);
  const run = new UploadRun(store, request, now, results);
  const [markers, existing] = await Promise.all([
    store.statuses.readMarkers(valid.map((record) => record.nhsNumber)),
    store.plans.readCouncilPlans(councilCode, valid),
  ]);

  let pending: PendingWrite[] = [];
  for (const record of valid) {
    const decided = run.decideRow(
      record,
      markers.get(record.nhsNumber),
      existing.get(planKey(record.nhsNumber, record.planType)),
    );
    if (decided) pending.push(decided);
  }

  if (mode === 'snapshot') {
    const councilPlans = await store.plans.listCouncilPlans(councilCode);
    const toEnd = plansToEnd(councilPlans, named, today);
    const open = countOpen(councilPlans, today);
    const share = settings.snapshotMaxEndShare;
    if (!request.force && breaksSnapshotGuard(toEnd.length, open, share)) {
      throw new RuleViolation(
        'SNAPSHOT_GUARD',
        `This snapshot would end ${toEnd.length} of the council's ${open} open plans, more than ${Math.round(share * 100)}%: ` +
          'check the export is complete, or send it again with force=true',
      );
    }
    run.ended = toEnd;
    pending.push(...toEnd.map((plan) => run.endWrite(plan)));
  }

  // The writes that landed stay and are answered as such (a transaction refused for some rows is sent
  // again without them); the refused rows are decided again, so the answer describes exactly what the
  // table now holds.
  for (let round = 1; !request.dryRun && pending.length > 0; round++) {
    try {
      await store.plans.writeMany(
        pending.map((entry) => entry.write),
        settings.writeConcurrency,
        settings.rowsPerTransaction ?? MAX_ROWS_PER_TRANSACTION,
      );
      break;
    } catch (error) {
      if (!(error instanceof PlanWriteConflict)) throw error;
      if (round >= MAX_WRITE_ROUNDS) {
        throw new RuleViolation(
          'CONFLICT',
          'Some of these plans kept changing while the upload ran, so part of it was not applied: send the ' +
            'file again (rows already applied will answer UNCHANGED)',
        );
      }
      pending = await run.redecide(pending, error);
    }
  }

  const rows = upload.records.map((_, index) => run.results.get(index + 1) as RowResult);
  await store.audit.appendEach(rowAudits(rows, request, now.toISOString()));
  const endedRows = run.ended.map(
    (plan): RowResult => ({
      row: null,
      nhsNumber: plan.nhsNumber,
      planType: plan.planType,
      outcome: 'ENDED',
    }),
  );
  const accepted = rows.filter((row) => row.outcome !== 'REJECTED').length;
  const rejectedCount = rows.length - accepted;
  return {
    uploadId: newId(),
    mode,
    ...(request.dryRun ? { dryRun: true } : {}),
    status: uploadStatus(accepted, rejectedCount),
    accepted,
    rejected: rejectedCount,
    ended: endedRows.length,
    results: [...rows, ...endedRows],
  };
}
