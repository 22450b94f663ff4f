/**
 * `npm run upload -- --council E09000001 --file plans.csv [--snapshot] [--dry-run]`
 *
 * Streams a CSV file to the upload API (deltas in requests of 1,000 records, two in flight; a snapshot
 * whole), shows progress and rate, prints a summary and writes the result of every record to
 * `<file>.results.csv` beside the input.
 * Exit code: 0 when every row was accepted, 1 when any was rejected, 2 when the upload failed.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse';
import {
  CSV_HEADER,
  duplicateRow,
  MAX_UPLOAD_RECORDS,
  namedPlanKey,
  type RowResult,
} from '../functions/core/uploads';
import { signDevToken } from './dev-key';
import { readRuntimeInfo } from './runtime-file';

const USAGE =
  'Usage: npm run upload -- --council CODE --file plans.csv [--snapshot] [--dry-run] [--url URL] [--token JWT] [--batch-size N]';

class UsageError extends Error {}

const DEFAULT_DELTA_BATCH = 1_000;
/**
 * Requests in flight: while the service writes one request's rows, it reads and checks the next one's.
 * Locally that also gives DynamoDB Local two transactions at a time (it timed some out with 8);
 * deployed, each request already keeps several transactions in flight.
 */
const REQUESTS_IN_FLIGHT = 2;

/** Records on their way in one request, with their rows in the file. */
interface Batch {
  /** File row (from 1) of each record sent. */
  rows: number[];
  records: string[][];
  /** Rows the CLI answers itself: repeats of a pair an earlier request already sent. */
  answered: RowResult[];
}

const newBatch = (): Batch => ({ rows: [], records: [], answered: [] });

interface Totals {
  rows: number;
  CREATED: number;
  UPDATED: number;
  UNCHANGED: number;
  REJECTED: number;
  ENDED: number;
  codes: Map<string, number>;
}

const csvCell = (value: unknown) => {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

function progress(totals: Totals, started: number, done: boolean): void {
  const seconds = (Date.now() - started) / 1000;
  const rate = seconds > 0 ? Math.round(totals.rows / seconds) : 0;
  const line = `uploaded ${totals.rows.toLocaleString('en-GB')} rows · ${rate.toLocaleString('en-GB')} rows/s · ${totals.REJECTED} rejected`;
  if (process.stderr.isTTY) process.stderr.write(`\r${line}${done ? '\n' : ''}`);
  else if (done) process.stderr.write(`${line}\n`);
}

async function send(
  url: string,
  token: string,
  records: string[][],
  mode: string,
  dryRun: boolean,
): Promise<{ results: RowResult[] }> {
  const body = [CSV_HEADER.join(','), ...records.map((cells) => cells.map(csvCell).join(','))].join('\n');
  const query = new URLSearchParams({ mode, ...(dryRun ? { dryRun: 'true' } : {}) });
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`${url}?${query}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'text/csv' },
      body,
    });
    const payload = (await response.json().catch(() => ({}))) as {
      results?: RowResult[];
      error?: { code: string; message: string };
    };
    if (response.ok && payload.results) return { results: payload.results };
    // CONFLICT: plans changed while the request ran (or an earlier attempt that timed out was still
    // writing). Sending the same records again is safe: rows already applied answer UNCHANGED.
    const retryable = response.status === 429 || response.status >= 500 || payload.error?.code === 'CONFLICT';
    if (!retryable || attempt >= 5) {
      throw new Error(
        `The service refused the upload (${response.status} ${payload.error?.code ?? ''}): ${payload.error?.message ?? ''}`,
      );
    }
    await new Promise((resolve) =>
      setTimeout(resolve, Number(response.headers.get('retry-after') ?? 0) * 1000 || 500 * 2 ** attempt),
    );
  }
}

/**
 * Writes one request's results in file order: the service numbers rows within the request, so its row
 * n is the batch's nth record; its ENDED results (no row) come last, as in its answer.
 */
function record(totals: Totals, batch: Batch, results: RowResult[], out: WriteStream): void {
  const inFile = [
    ...results.map((result) =>
      result.row === null ? result : { ...result, row: batch.rows[result.row - 1] ?? null },
    ),
    ...batch.answered,
  ].sort((a, b) => (a.row ?? Number.POSITIVE_INFINITY) - (b.row ?? Number.POSITIVE_INFINITY));
  for (const result of inFile) {
    totals[result.outcome]++;
    if (result.code) totals.codes.set(result.code, (totals.codes.get(result.code) ?? 0) + 1);
    out.write(
      `${[result.row ?? '', result.nhsNumber, result.planType, result.outcome, result.code, result.message].map(csvCell).join(',')}\n`,
    );
  }
  totals.rows += batch.rows.length + batch.answered.length;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      council: { type: 'string' },
      file: { type: 'string' },
      snapshot: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      url: { type: 'string' },
      token: { type: 'string' },
      'batch-size': { type: 'string' },
    },
    strict: true,
  });
  if (!values.council || !/^[A-Z0-9]{3,10}$/.test(values.council) || !values.file)
    throw new UsageError(USAGE);
  // Deltas go in requests of 1,000: each answers well within API Gateway's 29 seconds, even on
  // DynamoDB Local. A snapshot must be whole, so it goes as one request of up to 5,000.
  const batchSize =
    values['batch-size'] !== undefined
      ? Number(values['batch-size'])
      : values.snapshot
        ? MAX_UPLOAD_RECORDS
        : DEFAULT_DELTA_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_UPLOAD_RECORDS) {
    throw new UsageError(`--batch-size must be 1 to ${MAX_UPLOAD_RECORDS}`);
  }
  const base = values.url ?? (await readRuntimeInfo()).url;
  const token =
    values.token ??
    process.env.UPLOAD_TOKEN ??
    (await signDevToken({ sub: 'upload-cli', name: 'Upload CLI', org: values.council, role: 'council' }));
  const endpoint = `${base.replace(/\/$/, '')}/v1/councils/${values.council}/uploads`;
  const mode = values.snapshot ? 'snapshot' : 'delta';
  const resultsFile = path.join(
    path.dirname(values.file),
    `${path.basename(values.file, path.extname(values.file))}.results.csv`,
  );

  const parser = createReadStream(values.file).pipe(
    parse({ bom: true, trim: true, skip_empty_lines: true, relax_column_count: true }),
  );
  const out = createWriteStream(resultsFile);
  out.write('row,nhsNumber,planType,outcome,code,message\n');
  const totals: Totals = {
    rows: 0,
    CREATED: 0,
    UPDATED: 0,
    UNCHANGED: 0,
    REJECTED: 0,
    ENDED: 0,
    codes: new Map(),
  };
  const started = Date.now();
  let header: string[] | undefined;
  let fileRow = 0;
  let batch = newBatch();
  let sentAny = false;
  // Pairs named by requests already sent: a later row naming one is a DUPLICATE_ROW, as it would be
  // within one request, and no pair is ever in two requests in flight at once.
  const sentPairs = new Set<string>();
  let batchPairs = new Set<string>();
  const inFlight: { batch: Batch; answer: Promise<{ results: RowResult[] }> }[] = [];
  const recordOldest = async () => {
    const oldest = inFlight.shift();
    if (!oldest) return;
    record(totals, oldest.batch, (await oldest.answer).results, out);
    progress(totals, started, false);
  };
  const flush = async () => {
    for (const pair of batchPairs) sentPairs.add(pair);
    batchPairs = new Set();
    const sending = batch;
    batch = newBatch();
    // A batch of repeats only has nothing to send, but its results still go in file order.
    const answer =
      sending.records.length === 0 && sentAny
        ? Promise.resolve({ results: [] })
        : send(endpoint, token, sending.records, mode, values['dry-run']);
    sentAny = true;
    // Awaited in turn by recordOldest; this only keeps an early failure from going unhandled meanwhile.
    answer.catch(() => undefined);
    inFlight.push({ batch: sending, answer });
    if (inFlight.length >= REQUESTS_IN_FLIGHT) await recordOldest();
  };
  try {
    for await (const cells of parser as AsyncIterable<string[]>) {
      if (!header) {
        header = cells;
        if (header.join(',') !== CSV_HEADER.join(','))
          throw new UsageError(`The first row must be exactly ${CSV_HEADER.join(',')}`);
        continue;
      }
      if (batch.records.length + batch.answered.length === batchSize) {
        if (values.snapshot) {
          throw new UsageError(
            `A snapshot must be sent whole, and one request takes at most ${batchSize} records: this file has more. ` +
              'Send it as a delta, or split it by plan type.',
          );
        }
        await flush();
      }
      fileRow++;
      const named = { nhsNumber: cells[0], planType: cells[1] };
      const pair = namedPlanKey(named);
      if (pair && sentPairs.has(pair)) {
        batch.answered.push(duplicateRow(fileRow, named));
        continue;
      }
      if (pair) batchPairs.add(pair);
      batch.rows.push(fileRow);
      batch.records.push(cells);
    }
    if (!header) throw new UsageError('The file is empty: it needs the header row and the records');
    if (batch.records.length > 0 || batch.answered.length > 0 || !sentAny) await flush();
    while (inFlight.length > 0) await recordOldest();
  } finally {
    // On failure, let the other request in flight finish before the results file is closed.
    await Promise.allSettled(inFlight.map((request) => request.answer));
    await new Promise((resolve) => out.end(resolve));
  }
  progress(totals, started, true);

  const lines = [
    ['rows', totals.rows],
    ['created', totals.CREATED],
    ['updated', totals.UPDATED],
    ['unchanged', totals.UNCHANGED],
    ['rejected', totals.REJECTED],
    ...(values.snapshot ? [['ended (absent from snapshot)', totals.ENDED]] : []),
    ...[...totals.codes].sort().map(([code, count]) => [`  ${code}`, count]),
  ] as [string, number][];
  const width = Math.max(...lines.map(([label]) => label.length));
  console.log(
    `${values['dry-run'] ? 'Dry run (nothing written)' : 'Upload'} to ${values.council}, ${mode} mode`,
  );
  for (const [label, count] of lines)
    console.log(`  ${label.padEnd(width)}  ${count.toLocaleString('en-GB').padStart(9)}`);
  console.log(`Results for every row: ${resultsFile}`);
  return totals.REJECTED === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof UsageError ? error.message : `Upload failed: ${(error as Error).message}`);
    process.exit(2);
  },
);
