/**
 * `npm run upload -- --council E09000001 --file plans.csv [--snapshot] [--dry-run]`
 *
 * Streams a CSV file to the upload API (deltas in requests of 1,000 records, a snapshot whole), shows progress and rate,
 * prints a summary and writes the result of every record to `<file>.results.csv` beside the input.
 * Exit code: 0 when every row was accepted, 1 when any was rejected, 2 when the upload failed.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse';
import { CSV_HEADER, MAX_UPLOAD_RECORDS, type RowResult } from '../functions/core/uploads';
import { signDevToken } from './dev-key';
import { readRuntimeInfo } from './runtime-file';

const USAGE =
  'Usage: npm run upload -- --council CODE --file plans.csv [--snapshot] [--dry-run] [--url URL] [--token JWT] [--batch-size N]';

class UsageError extends Error {}

const DEFAULT_DELTA_BATCH = 1_000;

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

function record(totals: Totals, results: RowResult[], offset: number, out: WriteStream): void {
  for (const result of results) {
    totals[result.outcome]++;
    if (result.code) totals.codes.set(result.code, (totals.codes.get(result.code) ?? 0) + 1);
    const row = result.row === null ? '' : result.row + offset;
    out.write(
      `${[row, result.nhsNumber, result.planType, result.outcome, result.code, result.message].map(csvCell).join(',')}\n`,
    );
  }
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
  let batch: string[][] = [];
  let offset = 0;
  const flush = async () => {
    const { results } = await send(endpoint, token, batch, mode, values['dry-run']);
    record(totals, results, offset, out);
    offset += batch.length;
    totals.rows += batch.length;
    batch = [];
    progress(totals, started, false);
  };
  try {
    for await (const cells of parser as AsyncIterable<string[]>) {
      if (!header) {
        header = cells;
        if (header.join(',') !== CSV_HEADER.join(','))
          throw new UsageError(`The first row must be exactly ${CSV_HEADER.join(',')}`);
        continue;
      }
      if (batch.length === batchSize) {
        if (values.snapshot) {
          throw new UsageError(
            `A snapshot must be sent whole, and one request takes at most ${batchSize} records: this file has more. ` +
              'Send it as a delta, or split it by plan type.',
          );
        }
        await flush();
      }
      batch.push(cells);
    }
    if (!header) throw new UsageError('The file is empty: it needs the header row and the records');
    if (batch.length > 0 || totals.rows === 0) await flush();
  } finally {
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
