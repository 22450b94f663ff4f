/**
 * Bulk upload: a council's plans as JSON or CSV, with a result per record. Delta mode writes what the
 * file says; snapshot mode also ends the council's open plans the file does not name, refusing
 * (unless forced) when that would end more than the configured share of them.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { planWriteConcurrency, snapshotMaxEndShare } from './config';
import { clock } from './core/clock';
import { todayUtc } from './core/dates';
import { classifyPlanChange, isPlanOpen, type PlanType } from './core/plans';
import { UploadJsonBodySchema, type UploadResponse } from './core/schemas';
import {
  breaksSnapshotGuard,
  CSV_HEADER,
  CSV_PARSE_OPTIONS,
  countOpen,
  MAX_UPLOAD_RECORDS,
  planKey,
  plansToEnd,
  type RowResult,
  rejected,
  type UploadMode,
  type UploadRecord,
  uploadStatus,
  validateRecords,
} from './core/uploads';
import { apiHandler, parseJson, type RawBody } from './http/api-handler';
import { apiErrors, fromSchemaIssues } from './http/errors';
import { planConflict } from './http/plan-conflicts';
import { BODY_LIMIT_BYTES } from './http/routes';
import { newId } from './store/ids';
import {
  getCouncil,
  listCouncilPlans,
  type NhsNumberMarkers,
  type PlanWrite,
  PlanWriteConflict,
  readCouncilPlans,
  readMarkers,
  type StoredPlan,
  WriteConflict,
  writePlans,
} from './store/table';

/** Read at cold start, so that a bad setting fails the function's start-up rather than each upload. */
const WRITE_CONCURRENCY = planWriteConcurrency();

/** Rounds of writes an upload makes when plans change under it, before it answers 409. */
const MAX_WRITE_ROUNDS = 3;

/** What a write is for, so that it can be decided again if the plan changes before it lands. */
type WriteIntent = { record: UploadRecord } | { end: StoredPlan };
interface PendingWrite {
  intent: WriteIntent;
  write: PlanWrite;
}

/** Under BODY_LIMIT_BYTES: the web ACL refuses that size before it reaches here. */
const MAX_BODY_BYTES = BODY_LIMIT_BYTES - 1;

/** Read at cold start too (functions/config.ts): a bad setting fails start-up, not each snapshot. */
const SNAPSHOT_MAX_END_SHARE = snapshotMaxEndShare();

interface ParsedUpload {
  mode?: UploadMode;
  records: unknown[];
  /** Rows refused while parsing (a CSV row with the wrong number of cells). */
  preRejected: Map<number, RowResult>;
}

function parseJsonUpload(text: string): ParsedUpload {
  const parsed = UploadJsonBodySchema.safeParse(parseJson(text));
  if (!parsed.success) throw fromSchemaIssues(parsed.error.issues);
  return { mode: parsed.data.mode, records: parsed.data.records, preRejected: new Map() };
}

function parseCsvUpload(text: string): ParsedUpload {
  let rows: string[][];
  try {
    rows = parseCsv(text, CSV_PARSE_OPTIONS);
  } catch (error) {
    throw apiErrors.validation(`The CSV file cannot be read: ${(error as Error).message.split('\n')[0]}`);
  }
  const [header, ...body] = rows;
  if (!header || header.join(',') !== CSV_HEADER.join(',')) {
    throw apiErrors.validation(`The first row must be exactly ${CSV_HEADER.join(',')}`);
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

export const handler = apiHandler<RawBody, { mode?: UploadMode; force?: boolean; dryRun?: boolean }>(
  'upload',
  async ({ params, body, query, claims }) => {
    const councilCode = params.councilCode as string;
    const upload = body.contentType === 'text/csv' ? parseCsvUpload(body.text) : parseJsonUpload(body.text);
    if (upload.mode && query.mode && upload.mode !== query.mode) {
      throw apiErrors.validation(
        `mode is ${query.mode} in the query but ${upload.mode} in the body: send one, or the same in both`,
      );
    }
    const mode = upload.mode ?? query.mode;
    if (!mode)
      throw apiErrors.validation('mode is required: delta or snapshot (in the query, or in a JSON body)');
    if (upload.records.length > MAX_UPLOAD_RECORDS) {
      throw apiErrors.tooManyRecords(upload.records.length, MAX_UPLOAD_RECORDS);
    }
    if (!(await getCouncil(councilCode))) {
      throw planConflict(new WriteConflict('COUNCIL_NOT_REGISTERED'), councilCode);
    }

    const now = clock.now();
    const at = now.toISOString();
    const today = todayUtc(now);
    const { valid, results, named } = validateRecords(upload.records, today, upload.preRejected);
    const [markers, existing] = await Promise.all([
      readMarkers(valid.map((record) => record.nhsNumber)),
      readCouncilPlans(councilCode, valid),
    ]);

    const audit = (
      nhsNumber: string,
      planType: PlanType,
      action: PlanWrite['audit']['action'],
    ): PlanWrite['audit'] => ({
      subject: nhsNumber,
      action,
      outcome: 'SUCCESS',
      actor: claims,
      at,
      planType,
      councilCode,
    });
    /** A row's outcome against the plan and markers read, and the write it needs, if any. */
    const decideRow = (record: UploadRecord, marker: NhsNumberMarkers | undefined, current?: StoredPlan) => {
      const base = { row: record.row, nhsNumber: record.nhsNumber, planType: record.planType };
      if (marker?.supersededBy) {
        results.set(record.row, {
          ...base,
          outcome: 'REJECTED',
          code: 'NHS_NUMBER_SUPERSEDED',
          message: `This NHS number has been superseded by ${marker.supersededBy}: send the plan against ${marker.supersededBy}`,
        });
        return undefined;
      }
      const change = classifyPlanChange(current, record);
      if (change === 'UNCHANGED') {
        results.set(record.row, { ...base, outcome: 'UNCHANGED' });
        return undefined;
      }
      if (!current && marker?.sensitive) {
        results.set(record.row, {
          ...base,
          outcome: 'REJECTED',
          code: 'SENSITIVE_RECORD',
          message:
            'The demographics service marks this NHS number as sensitive: plans cannot be published for it',
        });
        return undefined;
      }
      results.set(record.row, { ...base, outcome: change === 'PLAN_CREATED' ? 'CREATED' : 'UPDATED' });
      return {
        intent: { record },
        write: {
          plan: {
            ...base,
            councilCode,
            startDate: record.startDate,
            endDate: record.endDate,
            version: (current?.version ?? 0) + 1,
          },
          expectedVersion: current?.version,
          audit: audit(record.nhsNumber, record.planType, change),
        },
      };
    };
    const endWrite = (plan: StoredPlan) => ({
      intent: { end: plan },
      write: {
        plan: { ...plan, endDate: today, version: plan.version + 1 },
        expectedVersion: plan.version,
        audit: audit(plan.nhsNumber, plan.planType, 'PLAN_ENDED'),
      },
    });

    let pending: PendingWrite[] = [];
    for (const record of valid) {
      const decided = decideRow(
        record,
        markers.get(record.nhsNumber),
        existing.get(planKey(record.nhsNumber, record.planType)),
      );
      if (decided) pending.push(decided);
    }

    let ended: StoredPlan[] = [];
    if (mode === 'snapshot') {
      const councilPlans = await listCouncilPlans(councilCode);
      const toEnd = plansToEnd(councilPlans, named, today);
      const open = countOpen(councilPlans, today);
      const share = SNAPSHOT_MAX_END_SHARE;
      if (!query.force && breaksSnapshotGuard(toEnd.length, open, share)) {
        throw apiErrors.snapshotGuard(
          `This snapshot would end ${toEnd.length} of the council's ${open} open plans, more than ${Math.round(share * 100)}%: ` +
            'check the export is complete, or send it again with force=true',
        );
      }
      ended = toEnd;
      pending.push(...toEnd.map(endWrite));
    }

    // A write refused by a condition means its plan, or its number's status, changed since it was read.
    // The writes that landed stay and are answered as such; the rest are read again and decided afresh
    // (UNCHANGED, or rejected for a number superseded or flagged meanwhile, or written on the new
    // version), so the answer describes exactly what the table now holds.
    for (let round = 1; !query.dryRun && pending.length > 0; round++) {
      try {
        await writePlans(
          pending.map((entry) => entry.write),
          WRITE_CONCURRENCY,
        );
        break;
      } catch (error) {
        if (!(error instanceof PlanWriteConflict)) throw error;
        if (round >= MAX_WRITE_ROUNDS) {
          throw apiErrors.conflict(
            'Some of these plans kept changing while the upload ran, so part of it was not applied: send the ' +
              'file again (rows already applied will answer UNCHANGED)',
          );
        }
        const landed = new Set(error.applied);
        const left = pending.filter((_, index) => !landed.has(index)).map((entry) => entry.intent);
        const keys = left.map((intent) => ('record' in intent ? intent.record : intent.end));
        const [freshMarkers, fresh] = await Promise.all([
          readMarkers(keys.map((key) => key.nhsNumber)),
          readCouncilPlans(councilCode, keys),
        ]);
        pending = [];
        for (const intent of left) {
          if ('record' in intent) {
            const { record } = intent;
            const decided = decideRow(
              record,
              freshMarkers.get(record.nhsNumber),
              fresh.get(planKey(record.nhsNumber, record.planType)),
            );
            if (decided) pending.push(decided);
            continue;
          }
          // A plan to end that was deleted or ended meanwhile needs nothing more, and is not reported.
          const key = planKey(intent.end.nhsNumber, intent.end.planType);
          const current = fresh.get(key);
          if (current && isPlanOpen(current, today)) pending.push(endWrite(current));
          else ended = ended.filter((plan) => planKey(plan.nhsNumber, plan.planType) !== key);
        }
      }
    }

    const rows = upload.records.map((_, index) => results.get(index + 1) as RowResult);
    const endedRows = ended.map(
      (plan): RowResult => ({
        row: null,
        nhsNumber: plan.nhsNumber,
        planType: plan.planType,
        outcome: 'ENDED',
      }),
    );
    const accepted = rows.filter((row) => row.outcome !== 'REJECTED').length;
    const rejectedCount = rows.length - accepted;
    const response: UploadResponse = {
      uploadId: newId(),
      mode,
      ...(query.dryRun ? { dryRun: true } : {}),
      status: uploadStatus(accepted, rejectedCount),
      accepted,
      rejected: rejectedCount,
      ended: endedRows.length,
      results: [...rows, ...endedRows],
    };
    return { status: 200, body: response };
  },
  { maxBodyBytes: MAX_BODY_BYTES },
);
