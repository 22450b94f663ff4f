/**
 * `npm run upload -- --council E09000001 --file plans.csv [--snapshot [--force]] [--dry-run]`
 * (`--help` lists every flag).
 *
 * Reads the whole CSV file once first, sending nothing, so that a file the service would refuse whole
 * (one it cannot parse, or with the wrong header) is refused before any of it is applied. Then streams
 * it to the upload API (deltas in requests of 1,000 records, two in flight; a snapshot whole), shows
 * progress and rate, prints a summary and writes the result of every record to `<file>.results.csv`
 * beside the input. If it stops part-way, the results file holds every request the service answered and
 * the message says which rows have a result and how to finish.
 * Exit code: 0 when every row was accepted, 1 when any was rejected, 2 when the upload failed.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream';
import { CsvError, type Info, type Options, parse } from 'csv-parse';
import {
  CSV_HEADER,
  CSV_PARSE_OPTIONS,
  duplicateRow,
  MAX_UPLOAD_RECORDS,
  namedPlanKey,
  type RowResult,
} from '../functions/core/uploads';
import { obtainToken } from '../local/identity-tokens';
import { readRuntimeInfo } from '../local/runtime-file';
import { type CliSpec, COUNCIL_FLAG, type Flag, runCli, UsageError, type Values } from './args';
import { spreadsheetCell } from './spreadsheet-cells';

/** The file cannot be sent as it is: nothing was sent, and the message says what to correct. */
class FileRefused extends Error {}

/** The upload stopped part-way; the message says what was answered and how to finish. */
class UploadStopped extends Error {}

/** The service refused a request whole (after any retries). */
class RequestRefused extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

const snapshotTooLarge = (batchSize: number) =>
  new FileRefused(
    `A snapshot must be sent whole, and one request takes at most ${batchSize} records: this file has more. ` +
      'Send it as a delta, or split it by plan type.',
  );

/**
 * The file's records as they stream in, and no more of it in memory; read as the service reads a
 * request, so the CLI finds what it would refuse.
 */
function readCsv(file: string, options: Options = {}) {
  // pipeline, unlike pipe, hands a read error (no such file) on to the parser's reader.
  return pipeline(createReadStream(file), parse({ ...CSV_PARSE_OPTIONS, ...options }), () => undefined);
}

const n = (value: number) => value.toLocaleString('en-GB');

const DEFAULT_DELTA_BATCH = 1_000;
/**
 * Requests in flight: while the service writes one request's rows, it reads and checks the next one's.
 * Locally that also gives DynamoDB Local two transactions at a time, which it handles (docs/adr/0011);
 * deployed, each request already keeps several transactions in flight.
 */
const REQUESTS_IN_FLIGHT = 2;

/** Records on their way in one request, with their rows in the file. */
interface Batch {
  /** The file rows (from 1) this batch covers, sent or answered by the CLI: first to last. */
  first: number;
  last: number;
  /** File row (from 1) of each record sent. */
  rows: number[];
  records: string[][];
  /** Rows the CLI answers itself: repeats of a pair an earlier request already sent. */
  answered: RowResult[];
}

const newBatch = (first: number): Batch => ({ first, last: first - 1, rows: [], records: [], answered: [] });

interface Totals {
  rows: number;
  CREATED: number;
  UPDATED: number;
  UNCHANGED: number;
  REJECTED: number;
  ENDED: number;
  codes: Map<string, number>;
}

/** A cell of a request body, sent as it is (the service reads the data, not a spreadsheet). */
const csvCell = (value: unknown) => {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/** Seconds between progress lines when stderr is not a terminal (a log keeps every line). */
const LOG_PROGRESS_EVERY_SECONDS = 10;

/**
 * Progress on stderr: on a terminal, one line rewritten in place; otherwise a plain line now and then,
 * and always the last.
 */
function progressReporter(fileRows: number, dryRun: boolean) {
  const started = Date.now();
  let lastLogged = started;
  return (totals: Totals, done: boolean) => {
    const now = Date.now();
    const seconds = (now - started) / 1000;
    const rate = seconds > 0 ? Math.round(totals.rows / seconds) : 0;
    // The file may have grown since it was counted.
    const total = Math.max(fileRows, totals.rows);
    const percent = total > 0 ? Math.floor((totals.rows / total) * 100) : 100;
    const line =
      `${dryRun ? 'Checked (dry run)' : 'Uploaded'} ${n(totals.rows)} of ${n(total)} rows (${percent}%) · ` +
      `${n(rate)} rows/s · ${n(totals.REJECTED)} rejected`;
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${line}\x1b[K${done ? '\n' : ''}`);
    } else if (done || now - lastLogged >= LOG_PROGRESS_EVERY_SECONDS * 1000) {
      lastLogged = now;
      process.stderr.write(`${line}\n`);
    }
  };
}

/** What a person can do about each way a CSV file cannot be read. */
const CSV_PROBLEMS: Partial<Record<string, string>> = {
  CSV_QUOTE_NOT_CLOSED:
    'a quoted cell is never closed: its opening quote (") runs on to the end of the file. Close the quote, ' +
    'or remove it',
  INVALID_OPENING_QUOTE:
    'a quote (") inside a cell that does not start with one. Put the whole cell in quotes and write each ' +
    'quote inside it twice (""), or remove the quote',
  CSV_INVALID_CLOSING_QUOTE:
    'a quoted cell goes on after its closing quote. End the cell at its closing quote, and write each quote ' +
    'inside it twice ("")',
};

/**
 * Reads the whole file, sending nothing, and refuses it (naming the line and row, and what is wrong)
 * where the service would refuse a request of it whole: CSV it cannot parse, a wrong header, no header.
 * A row with missing or extra cells is not such a problem: the service rejects that row (INVALID_RECORD).
 * Streams, holding one record at a time. Returns the number of rows (records after the header).
 */
async function checkFile(file: string): Promise<number> {
  const name = path.basename(file);
  let records = 0;
  // Where the last record read ended, and the blank lines skipped by then, taken as the parser reads
  // (an error reaches the loop below before the records read ahead of it do). An unclosed quote is only
  // reported at the end of the file: its row starts on the first line after that record and the blank
  // lines after it.
  let lastLine = 0;
  let lastEmptyLines = 0;
  const onRecord = (record: string[], info: Info) => {
    lastLine = info.lines;
    lastEmptyLines = info.empty_lines;
    return record;
  };
  try {
    for await (const record of readCsv(file, { on_record: onRecord }) as AsyncIterable<string[]>) {
      if (records === 0 && record.join(',') !== CSV_HEADER.join(',')) {
        throw new FileRefused(
          `${name} was not sent: the first row must be exactly ${CSV_HEADER.join(',')}; ` +
            `it is ${JSON.stringify(record.join(',').slice(0, 80))}`,
        );
      }
      records++;
    }
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    const at = error as CsvError & Info;
    const line =
      at.code === 'CSV_QUOTE_NOT_CLOSED' ? lastLine + (at.empty_lines - lastEmptyLines) + 1 : at.lines;
    // The records read before this one include the header: this is row at.records of the file.
    const where =
      at.records > 0 ? `row ${n(at.records)}, on line ${n(line)}` : `the header row, line ${n(line)}`;
    throw new FileRefused(
      `${name} cannot be read as CSV at ${where} (rows count from 1 after the header): ` +
        `${CSV_PROBLEMS[at.code] ?? at.message.split('\n')[0]}. ` +
        'Nothing was sent: correct the file and run the upload again.',
    );
  }
  if (records === 0) throw new FileRefused(`${name} is empty: it needs the header row and the records`);
  return records - 1;
}

/** Attempts per request: refusals worth another try (429, 5xx, CONFLICT) and lost connections. */
const MAX_ATTEMPTS = 5;

async function send(
  url: string,
  token: string,
  records: string[][],
  options: { mode: string; dryRun: boolean; force: boolean },
): Promise<{ results: RowResult[] }> {
  // A record of one empty cell (a line of just "" in the file) is sent as "": an empty line would be
  // skipped by the service, and every later row's result given to the row before it.
  const line = (cells: string[]) =>
    cells.length === 1 && cells[0] === '' ? '""' : cells.map(csvCell).join(',');
  const body = [CSV_HEADER.join(','), ...records.map(line)].join('\n');
  const query = new URLSearchParams({
    mode: options.mode,
    ...(options.dryRun ? { dryRun: 'true' } : {}),
    ...(options.force ? { force: 'true' } : {}),
  });
  const backoff = (attempt: number, retryAfterSeconds = 0) =>
    new Promise((resolve) => setTimeout(resolve, retryAfterSeconds * 1000 || 500 * 2 ** attempt));
  for (let attempt = 1; ; attempt++) {
    let response: Response;
    try {
      response = await fetch(`${url}?${query}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'text/csv' },
        body,
      });
    } catch (error) {
      // The connection failed or dropped: the request may or may not have been applied, and sending
      // it again is safe (rows already applied answer UNCHANGED).
      if (attempt >= MAX_ATTEMPTS)
        throw new Error(`The service could not be reached at ${url}: ${(error as Error).message}`);
      await backoff(attempt);
      continue;
    }
    const payload = (await response.json().catch(() => ({}))) as {
      results?: RowResult[];
      error?: { code: string; message: string };
    };
    if (response.ok && payload.results) return { results: payload.results };
    // CONFLICT: plans changed while the request ran (or an earlier attempt that timed out was still
    // writing). Sending the same records again is safe: rows already applied answer UNCHANGED.
    const retryable = response.status === 429 || response.status >= 500 || payload.error?.code === 'CONFLICT';
    if (!retryable || attempt >= MAX_ATTEMPTS) {
      throw new RequestRefused(
        response.status,
        payload.error?.code,
        `The service refused the upload (${response.status} ${payload.error?.code ?? ''}): ${payload.error?.message ?? ''}`,
      );
    }
    await backoff(attempt, Number(response.headers.get('retry-after') ?? 0));
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
      `${[result.row ?? '', result.nhsNumber, result.planType, result.outcome, result.code, result.message].map(spreadsheetCell).join(',')}\n`,
    );
  }
  totals.rows += batch.rows.length + batch.answered.length;
}

/**
 * What a person needs after a stop part-way: which rows have a result (in the results file), from which
 * row none has, and that sending the whole file again is safe (rows already applied answer UNCHANGED).
 */
function stopMessage(stop: {
  cause: unknown;
  answered: [number, number][];
  firstUnanswered: number;
  totals: Totals;
  resultsFile: string;
  dryRun: boolean;
}): string {
  const { answered, firstUnanswered, totals } = stop;
  const ranges = (list: [number, number][]) =>
    list.map(([first, last]) => (first === last ? n(first) : `${n(first)} to ${n(last)}`)).join(' and ');
  const later = answered.filter(([first]) => first > firstUnanswered);
  const accepted = totals.CREATED + totals.UPDATED + totals.UNCHANGED;
  const refusal = stop.cause instanceof RequestRefused ? stop.cause : undefined;
  const refused = refusal?.status;
  // A request refused whole with a 4xx wrote nothing; a CONFLICT or a 5xx may come after some of its
  // rows' transactions were written, and a lost answer says nothing either way.
  const wroteNothing =
    refused !== undefined && refused >= 400 && refused < 500 && refusal?.code !== 'CONFLICT';
  const beforeRerun =
    refused === 401
      ? 'get a new token and '
      : wroteNothing && refused !== 429
        ? 'put right what the service refused, then '
        : '';
  return [
    `Upload stopped at row ${n(firstUnanswered)}: ${(stop.cause as Error).message}`,
    totals.rows === 0
      ? 'The service answered no rows before the stop.'
      : `Before the stop the service answered rows ${ranges(answered)}: ${n(accepted)} ` +
        `${stop.dryRun ? 'accepted' : 'applied (created, updated or unchanged)'} and ${n(totals.REJECTED)} rejected` +
        `${stop.dryRun ? ' (a dry run: nothing was written)' : ''}. Their results are in ${stop.resultsFile}.`,
    `Rows from ${n(firstUnanswered)} on${later.length > 0 ? ` (except rows ${ranges(later)})` : ''} have no result ` +
      (wroteNothing
        ? 'and were not applied.'
        : 'and were not applied, unless the request that failed was applied in part before failing.'),
    `To finish, ${beforeRerun}run the same upload again with the whole file: ` +
      'that is safe, as rows already applied answer UNCHANGED and are not written again.' +
      (firstUnanswered > 1
        ? ` Sending only the rows from ${n(firstUnanswered)} on is not the same: those repeating an earlier ` +
          "row's NHS number and plan type would be applied instead of rejected as DUPLICATE_ROW."
        : ''),
  ].join('\n');
}

const CLI = {
  usage:
    'npm run upload -- --council CODE --file FILE [--snapshot [--force]] [--dry-run] [--url URL] [--token JWT] [--batch-size N]',
  about:
    "Sends a CSV file of a council's plans to the upload API and writes a result per row to\n" +
    '<file>.results.csv beside it. Reads the whole file first, sending nothing, and refuses one that\n' +
    'cannot be parsed or has the wrong header. The CSV format and row codes: docs/uploads.md.',
  flags: {
    council: COUNCIL_FLAG,
    file: {
      type: 'string',
      value: 'FILE',
      help: 'the CSV file to send, headed nhsNumber,planType,startDate,endDate',
      required: 'the CSV file to upload, e.g. --file plans.csv',
    },
    snapshot: {
      type: 'boolean',
      help: `the file is every plan the council holds (up to ${n(MAX_UPLOAD_RECORDS)} rows): plans absent from it end`,
    },
    force: { type: 'boolean', help: 'with --snapshot: let it end more than the allowed share of open plans' },
    'dry-run': { type: 'boolean', help: 'check every row and report, writing nothing' },
    url: { type: 'string', value: 'URL', help: 'the API (default: the running local service)' },
    token: {
      type: 'string',
      value: 'JWT',
      help: 'a council token (default: $UPLOAD_TOKEN, else a development token for --council)',
    },
    'batch-size': {
      type: 'string',
      value: 'N',
      help: `records per request, 1 to ${n(MAX_UPLOAD_RECORDS)} (default ${n(DEFAULT_DELTA_BATCH)}; a snapshot is sent whole)`,
    },
  },
  examples: [
    'npm run upload -- --council E09000001 --file plans.csv',
    'npm run upload -- --council E09000001 --file all-plans.csv --snapshot --dry-run',
  ],
  notes: 'Exit codes: 0 every row accepted, 1 some rows rejected, 2 the upload failed or stopped part-way.',
} satisfies CliSpec<Record<string, Flag>>;

async function main(values: Values<typeof CLI.flags>): Promise<number> {
  if (!/^[A-Z0-9]{3,10}$/.test(values.council)) {
    throw new UsageError(
      '--council must be an ODS code of 3 to 10 capital letters and digits, e.g. --council E09000001',
    );
  }
  if (values.force && !values.snapshot)
    throw new UsageError(
      '--force applies to a snapshot only: it lets one end more than the allowed share of the plans. ' +
        'Add --snapshot, or leave out --force.',
    );
  // Deltas go in requests of 1,000: each answers well within API Gateway's 29 seconds, even on
  // DynamoDB Local. A snapshot must be whole, so it goes as one request of up to 5,000.
  const batchSize =
    values['batch-size'] !== undefined
      ? Number(values['batch-size'])
      : values.snapshot
        ? MAX_UPLOAD_RECORDS
        : DEFAULT_DELTA_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_UPLOAD_RECORDS) {
    throw new UsageError(
      `--batch-size must be a whole number from 1 to ${n(MAX_UPLOAD_RECORDS)}, e.g. --batch-size 500`,
    );
  }
  const isFile = await stat(values.file).then(
    (found) => found.isFile(),
    () => false,
  );
  if (!isFile)
    throw new UsageError(`--file ${values.file}: no such file; give the path of the CSV file to send`);
  const base = values.url ?? (await readRuntimeInfo()).url;
  // Without a token, one from the running `npm start`'s identity provider, as the council's system.
  const localCouncilToken = async (council: string) => {
    const { identityOrigin } = await readRuntimeInfo();
    if (!identityOrigin)
      throw new UsageError('give --token: the running local service names no identity provider');
    return obtainToken(identityOrigin, {
      sub: 'upload-cli',
      name: 'Upload CLI',
      org: council,
      role: 'council',
    });
  };
  const token = values.token ?? process.env.UPLOAD_TOKEN ?? (await localCouncilToken(values.council));
  const endpoint = `${base.replace(/\/$/, '')}/v1/councils/${values.council}/uploads`;
  const mode = values.snapshot ? 'snapshot' : 'delta';
  const resultsFile = path.join(
    path.dirname(values.file),
    `${path.basename(values.file, path.extname(values.file))}.results.csv`,
  );

  const fileRows = await checkFile(values.file);
  if (values.snapshot && fileRows > batchSize) throw snapshotTooLarge(batchSize);

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
  const progress = progressReporter(fileRows, values['dry-run']);
  progress(totals, false);
  let header = false;
  let fileRow = 0;
  let batch = newBatch(1);
  let sentAny = false;
  // Pairs named by requests already sent: a later row naming one is a DUPLICATE_ROW, as it would be
  // within one request, and no pair is ever in two requests in flight at once.
  const sentPairs = new Set<string>();
  let batchPairs = new Set<string>();
  // Requests sent and not yet recorded, oldest first. A request stays here until its results are
  // written, so that if the upload stops, every one the service answered can still be recorded.
  const inFlight: { batch: Batch; answer: Promise<{ results: RowResult[] }> }[] = [];
  // The rows whose results are in the results file, as ranges in file order.
  const answered: [number, number][] = [];
  const recordBatch = (done: Batch, results: RowResult[]) => {
    record(totals, done, results, out);
    const previous = answered.at(-1);
    if (previous && previous[1] + 1 === done.first) previous[1] = done.last;
    else if (done.last >= done.first) answered.push([done.first, done.last]);
  };
  const recordOldest = async () => {
    const oldest = inFlight[0];
    if (!oldest) return;
    const { results } = await oldest.answer;
    inFlight.shift();
    recordBatch(oldest.batch, results);
    progress(totals, false);
  };
  const flush = async () => {
    for (const pair of batchPairs) sentPairs.add(pair);
    batchPairs = new Set();
    const sending = batch;
    sending.last = fileRow;
    batch = newBatch(fileRow + 1);
    // A batch of repeats only has nothing to send, but its results still go in file order.
    const answer =
      sending.records.length === 0 && sentAny
        ? Promise.resolve({ results: [] })
        : send(endpoint, token, sending.records, { mode, dryRun: values['dry-run'], force: values.force });
    sentAny = true;
    // Awaited in turn by recordOldest; this only keeps an early failure from going unhandled meanwhile.
    answer.catch(() => undefined);
    inFlight.push({ batch: sending, answer });
    if (inFlight.length >= REQUESTS_IN_FLIGHT) await recordOldest();
  };
  /**
   * The upload stopped part-way (a request refused or failed after its retries, or the file changed
   * since it was checked): records every request the service did answer, in file order, and says
   * which rows have a result and how to finish.
   */
  const stopped = async (error: unknown) => {
    const settled = await Promise.allSettled(inFlight.map((request) => request.answer));
    let firstUnanswered: number | undefined;
    let cause = error;
    settled.forEach((outcome, i) => {
      const request = inFlight[i] as (typeof inFlight)[number];
      if (outcome.status === 'fulfilled') recordBatch(request.batch, outcome.value.results);
      else if (firstUnanswered === undefined) {
        firstUnanswered = request.batch.first;
        cause = outcome.reason;
      }
    });
    progress(totals, true);
    return new UploadStopped(
      stopMessage({
        cause,
        answered,
        firstUnanswered: firstUnanswered ?? batch.first,
        totals,
        resultsFile,
        dryRun: values['dry-run'],
      }),
    );
  };
  try {
    try {
      for await (const cells of readCsv(values.file) as AsyncIterable<string[]>) {
        if (!header) {
          // Checked with the whole file before anything was sent.
          header = true;
          continue;
        }
        if (batch.records.length + batch.answered.length === batchSize) {
          // The file has grown since it was checked: a part of a snapshot must never be sent.
          if (values.snapshot) throw snapshotTooLarge(batchSize);
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
      if (batch.records.length > 0 || batch.answered.length > 0 || !sentAny) await flush();
      while (inFlight.length > 0) await recordOldest();
    } catch (error) {
      throw await stopped(error);
    }
  } finally {
    await new Promise((resolve) => out.end(resolve));
  }
  progress(totals, true);

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

runCli(CLI, main, {
  exitWhenDone: true,
  describeFailure: (error) =>
    error instanceof FileRefused || error instanceof UploadStopped
      ? error.message
      : `Upload failed: ${error.message}`,
});
